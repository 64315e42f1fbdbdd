//===- Op.cpp - The operations of the graph IR ----------------------------===//
//
// The op table and the shape rules. A shape rule trusts nothing: any
// mismatch it finds is an internal error naming the op and both shapes.
//
//===----------------------------------------------------------------------===//
#include "ir/Op.h"

#include "frontend/Diagnostics.h"

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
      {OpKind::SquaredNorm, {"squared_norm", 1}},
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
    return true;
  default:
    return false;
  }
}

static void expect(bool condition, OpKind op,
                   const std::vector<TensorType> &inputs) {
  if (condition)
    return;
  std::string shapes;
  for (const TensorType &type : inputs)
    shapes += " " + type.str();
  throw InternalError(std::string("shape rule of '") + opName(op) +
                      "' violated by inputs" + shapes);
}

// The shape with its last axis replaced.
static TensorType withLastDim(TensorType type, int64_t last) {
  type.dims.back() = last;
  return type;
}

TensorType inferType(OpKind op, const std::vector<TensorType> &in) {
  expect(static_cast<int>(in.size()) == opInfo(op).arity, op, in);

  switch (op) {
  case OpKind::MatMulNT:
    expect(in[0].batched && !in[1].batched && in[1].dims.size() == 2 &&
               !in[0].dims.empty() && in[0].lastDim() == in[1].dims[1],
           op, in);
    return withLastDim(in[0], in[1].dims[0]);

  case OpKind::MatMulNN:
    expect(in[0].batched && !in[1].batched && in[1].dims.size() == 2 &&
               !in[0].dims.empty() && in[0].lastDim() == in[1].dims[0],
           op, in);
    return withLastDim(in[0], in[1].dims[1]);

  case OpKind::MatMulTN:
    expect(in[0].batched && in[1].batched && !in[0].dims.empty() &&
               in[0].dims.size() == in[1].dims.size() &&
               in[0].elements() / in[0].lastDim() ==
                   in[1].elements() / in[1].lastDim(),
           op, in);
    return fixedType({in[0].lastDim(), in[1].lastDim()});

  case OpKind::BiasAdd:
    expect(in[0].batched && !in[1].batched && in[1].dims.size() == 1 &&
               in[0].lastDim() == in[1].dims[0],
           op, in);
    return in[0];

  case OpKind::SumRows:
    expect(in[0].batched && !in[0].dims.empty(), op, in);
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
    expect(in[0] == in[1], op, in);
    return in[0];

  case OpKind::SoftmaxCrossEntropy:
    expect(in[0].batched && in[0].dims.size() == 1 && in[1].batched &&
               in[1].dims.empty(),
           op, in);
    return fixedType({});

  case OpKind::SoftmaxCrossEntropyGrad:
    expect(in[0].batched && in[0].dims.size() == 1 && in[1].batched &&
               in[1].dims.empty(),
           op, in);
    return in[0];

  case OpKind::MeanSquaredError:
    expect(in[0] == in[1] && in[0].batched, op, in);
    return fixedType({});

  case OpKind::SquaredNorm:
    return fixedType({});

  case OpKind::Input:
  case OpKind::Labels:
  case OpKind::Targets:
  case OpKind::Parameter:
  case OpKind::Reshape:
    break;
  }
  throw InternalError(std::string("op '") + opName(op) +
                      "' has no shape rule; its type must be given");
}

} // namespace gradc
