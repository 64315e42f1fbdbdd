//===- Op.cpp - The operations of the graph IR ----------------------------===//
//
// The op table and the shape rules. A shape rule trusts nothing: any
// mismatch it finds is an internal error naming the op and both shapes.
//
//===----------------------------------------------------------------------===//
#include "ir/Op.h"

#include "frontend/Diagnostics.h"
#include "ir/ConvOps.h"
#include "ir/SequenceOps.h"

#include <map>

namespace gradc {

const OpInfo &opInfo(OpKind op) {
  static const std::map<OpKind, OpInfo> Table = {
      {OpKind::Input, {"input", 0}},
      {OpKind::Labels, {"labels", 0}},
      {OpKind::Targets, {"targets", 0}},
      {OpKind::Parameter, {"parameter", 0}},
      {OpKind::MatMulNT, {"matmul_nt", 2}},
      {OpKind::BiasAdd, {"bias_add", 2}},
      {OpKind::Relu, {"relu", 1}},
      {OpKind::Sigmoid, {"sigmoid", 1}},
      {OpKind::Tanh, {"tanh", 1}},
      {OpKind::Reshape, {"reshape", 1}},
      {OpKind::SoftmaxCrossEntropy, {"softmax_cross_entropy", 2}},
      {OpKind::MeanSquaredError, {"mse", 2}},
      {OpKind::MatMulNN, {"matmul_nn", 2}},
      {OpKind::MatMulTN, {"matmul_tn", 2}},
      {OpKind::SumRows, {"sum_rows", 1}},
      {OpKind::ReluGrad, {"relu_grad", 2}},
      {OpKind::SigmoidGrad, {"sigmoid_grad", 2}},
      {OpKind::TanhGrad, {"tanh_grad", 2}},
      {OpKind::Add, {"add", 2}},
      {OpKind::SoftmaxCrossEntropyGrad, {"softmax_cross_entropy_grad", 2}},
      {OpKind::MeanSquaredErrorGrad, {"mse_grad", 2}},
      {OpKind::LeakyRelu, {"leaky_relu", 1}},
      {OpKind::Elu, {"elu", 1}},
      {OpKind::Gelu, {"gelu", 1}},
      {OpKind::Softplus, {"softplus", 1}},
      {OpKind::Softmax, {"softmax", 1}},
      {OpKind::Dropout, {"dropout", 1}},
      {OpKind::LayerNorm, {"layernorm", 3}},
      {OpKind::BceWithLogits, {"bce_with_logits", 2}},
      {OpKind::LeakyReluGrad, {"leaky_relu_grad", 2}},
      {OpKind::EluGrad, {"elu_grad", 2}},
      {OpKind::GeluGrad, {"gelu_grad", 2}},
      {OpKind::SoftplusGrad, {"softplus_grad", 2}},
      {OpKind::SoftmaxGrad, {"softmax_grad", 2}},
      {OpKind::DropoutGrad, {"dropout_grad", 1}},
      {OpKind::LayerNormGrad, {"layernorm_grad", 3}},
      {OpKind::LayerNormWeightGrad, {"layernorm_weight_grad", 2}},
      {OpKind::BceWithLogitsGrad, {"bce_with_logits_grad", 2}},
      {OpKind::BatchNormStats, {"batchnorm_stats", 3}},
      {OpKind::BatchNormApply, {"batchnorm_apply", 4}},
      {OpKind::BatchNormInputGrad, {"batchnorm_input_grad", 3}},
      {OpKind::BatchNormStatsGrad, {"batchnorm_stats_grad", 4}},
      {OpKind::BatchNormStatsInputGrad, {"batchnorm_stats_input_grad", 3}},
      {OpKind::BatchNormWeightGrad, {"batchnorm_weight_grad", 3}},
      {OpKind::ChannelSum, {"channel_sum", 1}},
      {OpKind::PositiveChannelSum, {"positive_channel_sum", 2}},
      {OpKind::Conv2d, {"conv2d", 2}},
      {OpKind::ChannelBiasAdd, {"channel_bias_add", 2}},
      {OpKind::MaxPool2d, {"maxpool2d", 1}},
      {OpKind::AvgPool2d, {"avgpool2d", 1}},
      {OpKind::Conv2dInputGrad, {"conv2d_input_grad", 2}},
      {OpKind::Conv2dWeightGrad, {"conv2d_weight_grad", 2}},
      {OpKind::MaxPool2dGrad, {"maxpool2d_grad", 2}},
      {OpKind::AvgPool2dGrad, {"avgpool2d_grad", 1}},
      {OpKind::RnnTanhScan, {"rnn_tanh_scan", 2}},
      {OpKind::RnnReluScan, {"rnn_relu_scan", 2}},
      {OpKind::LstmScan, {"lstm_scan", 2}},
      {OpKind::LstmHidden, {"lstm_hidden", 1}},
      {OpKind::LastStep, {"last_step", 1}},
      {OpKind::Embedding, {"embedding", 2}},
      {OpKind::RnnTanhScanGrad, {"rnn_tanh_scan_grad", 3}},
      {OpKind::RnnReluScanGrad, {"rnn_relu_scan_grad", 3}},
      {OpKind::LstmScanGrad, {"lstm_scan_grad", 3}},
      {OpKind::LstmHiddenGrad, {"lstm_hidden_grad", 1}},
      {OpKind::PrevHidden, {"prev_hidden", 1}},
      {OpKind::LastStepGrad, {"last_step_grad", 1}},
      {OpKind::EmbeddingGrad, {"embedding_grad", 2}},
      {OpKind::Mul, {"mul", 2}},
      {OpKind::Concat, {"concat", -1}},
      {OpKind::Slice, {"slice", 1}},
      {OpKind::SquaredNorm, {"squared_norm", 1}},
      {OpKind::Fused, {"fused", -1}},
      {OpKind::Conv2dBias, {"conv2d_bias", 3}},
  };
  auto found = Table.find(op);
  internalCheck(found != Table.end(), "an op is missing from the op table");
  return found->second;
}

bool isElementwise(OpKind op) {
  switch (op) {
  case OpKind::Relu:
  case OpKind::Sigmoid:
  case OpKind::Tanh:
  case OpKind::ReluGrad:
  case OpKind::SigmoidGrad:
  case OpKind::TanhGrad:
  case OpKind::Add:
  case OpKind::LeakyRelu:
  case OpKind::Elu:
  case OpKind::Gelu:
  case OpKind::Softplus:
  case OpKind::Dropout:
  case OpKind::LeakyReluGrad:
  case OpKind::EluGrad:
  case OpKind::GeluGrad:
  case OpKind::SoftplusGrad:
  case OpKind::DropoutGrad:
    return true;
  default:
    return false;
  }
}

bool hasScalarForm(OpKind op) {
  switch (op) {
  case OpKind::BiasAdd:
  case OpKind::Mul:
    return true;
  case OpKind::Dropout:
  case OpKind::DropoutGrad:
    return false;
  default:
    return isElementwise(op);
  }
}

void expectShapeRule(bool condition, OpKind op,
                     const std::vector<TensorType> &inputs,
                     const Attrs &attrs) {
  if (condition)
    return;
  std::string text =
      std::string("shape rule of '") + opName(op) + "' violated by inputs";
  for (const TensorType &type : inputs)
    text += " " + type.str();
  for (const auto &[name, value] : attrs)
    text += " " + name + "=" + std::to_string(value);
  throw InternalError(text);
}

// The shape with its last axis replaced.
static TensorType withLastDim(TensorType type, int64_t last) {
  type.dims.back() = last;
  return type;
}

int64_t channelCount(const TensorType &type) {
  return type.dims.empty() ? 1 : type.dims[0];
}

TensorType inferType(OpKind op, const std::vector<TensorType> &in,
                     const Attrs &attrs) {
  int arity = opInfo(op).arity;
  expectShapeRule(
      arity < 0 ? !in.empty() : static_cast<int>(in.size()) == arity, op, in);

  switch (op) {
  case OpKind::MatMulNT:
    expectShapeRule(in[0].batched && !in[1].batched && in[1].dims.size() == 2 &&
                        !in[0].dims.empty() && in[0].lastDim() == in[1].dims[1],
                    op, in);
    return withLastDim(in[0], in[1].dims[0]);

  case OpKind::MatMulNN:
    expectShapeRule(in[0].batched && !in[1].batched && in[1].dims.size() == 2 &&
                        !in[0].dims.empty() && in[0].lastDim() == in[1].dims[0],
                    op, in);
    return withLastDim(in[0], in[1].dims[1]);

  case OpKind::MatMulTN:
    expectShapeRule(in[0].batched && in[1].batched && !in[0].dims.empty() &&
                        in[0].dims.size() == in[1].dims.size() &&
                        in[0].elements() / in[0].lastDim() ==
                            in[1].elements() / in[1].lastDim(),
                    op, in);
    return fixedType({in[0].lastDim(), in[1].lastDim()});

  case OpKind::BiasAdd:
    expectShapeRule(in[0].batched && !in[1].batched && in[1].dims.size() == 1 &&
                        in[0].lastDim() == in[1].dims[0],
                    op, in);
    return in[0];

  case OpKind::SumRows:
    expectShapeRule(in[0].batched && !in[0].dims.empty(), op, in);
    return fixedType({in[0].lastDim()});

  case OpKind::Relu:
  case OpKind::Sigmoid:
  case OpKind::Tanh:
    return in[0];

  case OpKind::ReluGrad:
  case OpKind::SigmoidGrad:
  case OpKind::TanhGrad:
  case OpKind::Add:
  case OpKind::MeanSquaredErrorGrad:
    expectShapeRule(in[0] == in[1], op, in);
    return in[0];

  case OpKind::SoftmaxCrossEntropy:
    expectShapeRule(in[0].batched && in[0].dims.size() == 1 && in[1].batched &&
                        in[1].dims.empty(),
                    op, in);
    return fixedType({});

  case OpKind::SoftmaxCrossEntropyGrad:
    expectShapeRule(in[0].batched && in[0].dims.size() == 1 && in[1].batched &&
                        in[1].dims.empty(),
                    op, in);
    return in[0];

  case OpKind::MeanSquaredError:
    expectShapeRule(in[0] == in[1] && in[0].batched, op, in);
    return fixedType({});

  // BatchNorm: `x` is the batched activation; C its channel count.
  case OpKind::BatchNormStats: {
    TensorType perChannel = fixedType({channelCount(in[0])});
    expectShapeRule(in[0].batched && in[1] == perChannel && in[2] == perChannel,
                    op, in);
    return fixedType({2, channelCount(in[0])});
  }
  case OpKind::BatchNormApply:
  case OpKind::BatchNormInputGrad: {
    TensorType stats = fixedType({2, channelCount(in[0])});
    TensorType perChannel = fixedType({channelCount(in[0])});
    expectShapeRule(in[0].batched && in[1] == stats && in[2] == perChannel &&
                        (in.size() == 3 || in[3] == perChannel),
                    op, in);
    return in[0];
  }
  case OpKind::BatchNormStatsGrad: {
    TensorType stats = fixedType({2, channelCount(in[0])});
    expectShapeRule(in[0].batched && in[1] == in[0] && in[2] == stats &&
                        in[3] == fixedType({channelCount(in[0])}),
                    op, in);
    return stats;
  }
  case OpKind::BatchNormStatsInputGrad: {
    TensorType stats = fixedType({2, channelCount(in[1])});
    expectShapeRule(in[1].batched && in[0] == stats && in[2] == stats, op, in);
    return in[1];
  }
  case OpKind::BatchNormWeightGrad:
    expectShapeRule(in[0].batched && in[1] == in[0] &&
                        in[2] == fixedType({2, channelCount(in[0])}),
                    op, in);
    return fixedType({channelCount(in[0])});
  case OpKind::ChannelSum:
    expectShapeRule(in[0].batched, op, in);
    return fixedType({channelCount(in[0])});
  case OpKind::PositiveChannelSum:
    expectShapeRule(in[0].batched && in[1] == in[0], op, in);
    return fixedType({channelCount(in[0])});

  case OpKind::Mul:
    expectShapeRule(in[0] == in[1] && in[0].batched, op, in);
    return in[0];
  case OpKind::Concat: {
    auto axis = static_cast<size_t>(attrs.at("axis"));
    TensorType result = in[0];
    expectShapeRule(result.batched && axis < result.dims.size(), op, in);
    for (size_t i = 1; i < in.size(); ++i) {
      TensorType other = in[i];
      expectShapeRule(other.batched && other.dims.size() == result.dims.size(),
                      op, in);
      other.dims[axis] = result.dims[axis];
      expectShapeRule(other == result, op, in);
      result.dims[axis] += in[i].dims[axis];
    }
    return result;
  }
  case OpKind::Slice: {
    auto axis = static_cast<size_t>(attrs.at("axis"));
    auto offset = static_cast<int64_t>(attrs.at("offset"));
    auto size = static_cast<int64_t>(attrs.at("size"));
    expectShapeRule(in[0].batched && axis < in[0].dims.size() && offset >= 0 &&
                        size > 0 && offset + size <= in[0].dims[axis],
                    op, in);
    TensorType result = in[0];
    result.dims[axis] = size;
    return result;
  }

  case OpKind::SquaredNorm:
    return fixedType({});

  // The elementwise, normalization and regularization family.
  case OpKind::LeakyRelu:
  case OpKind::Elu:
    expectShapeRule(attrs.count("alpha") == 1, op, in);
    return in[0];

  case OpKind::Gelu:
  case OpKind::Softplus:
    return in[0];

  case OpKind::Softmax:
    expectShapeRule(in[0].batched && !in[0].dims.empty(), op, in);
    return in[0];

  case OpKind::Dropout:
  case OpKind::DropoutGrad:
    expectShapeRule(attrs.count("rate") == 1, op, in);
    return in[0];

  case OpKind::LayerNorm:
    expectShapeRule(in[0].batched && !in[0].dims.empty() &&
                        in[1] == fixedType({in[0].lastDim()}) &&
                        in[2] == in[1] && attrs.count("eps") == 1,
                    op, in);
    return in[0];

  case OpKind::LayerNormGrad:
    expectShapeRule(in[0] == in[1] && in[0].batched && !in[0].dims.empty() &&
                        in[2] == fixedType({in[0].lastDim()}) &&
                        attrs.count("eps") == 1,
                    op, in);
    return in[0];

  case OpKind::LayerNormWeightGrad:
    expectShapeRule(in[0] == in[1] && in[0].batched && !in[0].dims.empty() &&
                        attrs.count("eps") == 1,
                    op, in);
    return fixedType({in[0].lastDim()});

  case OpKind::BceWithLogits:
    expectShapeRule(in[0] == in[1] && in[0].batched, op, in);
    return fixedType({});

  case OpKind::LeakyReluGrad:
  case OpKind::EluGrad:
    expectShapeRule(in[0] == in[1] && attrs.count("alpha") == 1, op, in);
    return in[0];

  case OpKind::GeluGrad:
  case OpKind::SoftplusGrad:
  case OpKind::SoftmaxGrad:
  case OpKind::BceWithLogitsGrad:
    expectShapeRule(in[0] == in[1], op, in);
    return in[0];

  // The convolutional family: the window comes from attrs.
  case OpKind::Conv2d:
  case OpKind::ChannelBiasAdd:
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d:
  case OpKind::Conv2dInputGrad:
  case OpKind::Conv2dWeightGrad:
  case OpKind::MaxPool2dGrad:
  case OpKind::AvgPool2dGrad:
  case OpKind::Conv2dBias:
    return inferConvType(op, in, attrs);

  // The sequence family.
  case OpKind::RnnTanhScan:
  case OpKind::RnnReluScan:
  case OpKind::LstmScan:
  case OpKind::LstmHidden:
  case OpKind::LastStep:
  case OpKind::Embedding:
  case OpKind::RnnTanhScanGrad:
  case OpKind::RnnReluScanGrad:
  case OpKind::LstmScanGrad:
  case OpKind::LstmHiddenGrad:
  case OpKind::PrevHidden:
  case OpKind::LastStepGrad:
  case OpKind::EmbeddingGrad:
    return inferSequenceType(op, in);

  case OpKind::Input:
  case OpKind::Labels:
  case OpKind::Targets:
  case OpKind::Parameter:
  case OpKind::Reshape:
  case OpKind::Fused:
    break;
  }
  throw InternalError(std::string("op '") + opName(op) +
                      "' has no shape rule; its type must be given");
}

} // namespace gradc
