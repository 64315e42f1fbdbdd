//===- Op.h - The operations of the graph IR --------------------*- C++ -*-===//
//
// One table describes every operation: its printed name, how many inputs
// it takes, and its shape rule. Forward, loss, backward and update nodes
// are all ordinary operations, so passes and code generators treat the
// backward graph like any other. Each op's chain-rule rule lives in
// autodiff/GradRules.cpp; its loops live in the code generators.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_IR_OP_H
#define GRADC_IR_OP_H

#include "ir/Type.h"

#include <map>
#include <string>
#include <vector>

namespace gradc {

// An op's settings, by name: a stride, an epsilon, a slope. Shape rules
// and code generators read them; `--emit graph` prints them.
using Attrs = std::map<std::string, double>;

enum class OpKind {
  // Leaves.
  Input,     // the batch of samples
  Labels,    // int32 class ids, one per sample
  Targets,   // float targets, the output's shape
  Parameter, // a trainable tensor

  // Forward.
  MatMulNT, // x[B,..,K] * W[N,K]^T -> [B,..,N]
  BiasAdd,  // x[B,..,N] + b[N]
  Relu,
  Sigmoid,
  Tanh,
  Reshape, // same elements, new per-sample shape

  // Losses: a scalar, the mean over the batch.
  SoftmaxCrossEntropy, // logits[B,C], labels
  MeanSquaredError,    // prediction, targets

  // Backward.
  MatMulNN,    // dy[B,..,N] * W[N,K] -> [B,..,K]
  MatMulTN,    // dy[B,..,N]^T * x[B,..,K] -> [N,K]
  SumRows,     // dy[B,..,N] summed over all but the last axis -> [N]
  ReluGrad,    // dy * (y > 0), given the forward output y
  SigmoidGrad, // dy * y * (1 - y)
  TanhGrad,    // dy * (1 - y^2)
  Add,         // a + b, for gradients from several consumers
  SoftmaxCrossEntropyGrad, // (softmax(logits) - onehot(labels)) / B
  MeanSquaredErrorGrad,    // 2 (prediction - targets) / elements

  // The elementwise, normalization and regularization family. Forward ops
  // first, then the loss, then the backward ops; the kernels are in
  // gradc/kernels_elementwise.h.
  LeakyRelu,     // x > 0 ? x : alpha x; attr alpha
  Elu,           // x > 0 ? x : alpha (e^x - 1); attr alpha
  Gelu,          // x Phi(x), Phi the standard normal CDF
  Softplus,      // log(1 + e^x), or x where x > 20
  Softmax,       // over the last axis
  Dropout,       // zeroes with probability rate while training; attr rate
  LayerNorm,     // x[B,..,N], weight[N], bias[N], over the last axis; attr eps
  BceWithLogits, // logits, targets of one shape: the mean over all elements
  LeakyReluGrad, // dy, x
  EluGrad,       // dy, x
  GeluGrad,      // dy, x
  SoftplusGrad,  // dy, x
  SoftmaxGrad,   // dy, y: y (dy - sum of dy y over the row)
  DropoutGrad,   // dy through the forward's mask; attr rate
  LayerNormGrad, // dy, x, weight -> dx; attr eps
  LayerNormWeightGrad, // dy, x -> [N]: sum over rows of dy xhat; attr eps
  BceWithLogitsGrad,   // (sigmoid(logits) - targets) / elements

  // BatchNorm, split so that each node has a plain chain-rule rule. A
  // sample is [C] or [C,H,W]; statistics are per channel C, over the batch
  // and H, W. `stats` is [2,C]: each channel's mean and 1/sqrt(var + eps).
  // Kernels are in gradc/kernels_batchnorm.h.
  BatchNormStats,     // x, running_mean, running_var -> stats; attrs eps,
                      // momentum. Training: batch statistics, and the running
                      // ones are updated; eval: from the running ones.
  BatchNormApply,     // x, stats, weight, bias -> (x - mean) invstd w + b
  BatchNormInputGrad, // dy, stats, weight -> dy w invstd
  BatchNormStatsGrad, // dy, x, stats, weight -> d stats [2,C]
  BatchNormStatsInputGrad, // d stats, x, stats -> dx through the stats
  BatchNormWeightGrad,     // dy, x, stats -> [C]: sum of dy xhat
  ChannelSum,              // dy -> [C]: sum over all but the channel axis
  PositiveChannelSum,      // dy, y -> [C]: ChannelSum where y > 0

  // The convolutional family. A sample is [C,H,W]. Attrs give the square
  // window: `kernel` (conv2d) or `size` (pools), `stride`, and the zero
  // padding `pad_top`, `pad_left`, `pad_bottom`, `pad_right` (absent: 0);
  // backward ops whose inputs do not show the input's extent carry it as
  // `height` and `width`. Shape rules are in ir/ConvOps.cpp, kernels in
  // gradc/kernels_conv.h; a conv2d's bias gradient is ChannelSum.
  Conv2d,           // x[B,C,H,W], w[F,C,k,k] -> [B,F,OH,OW]
  ChannelBiasAdd,   // x[B,C,..] + b[C], broadcast over the positions
  MaxPool2d,        // x -> the maximum of each window
  AvgPool2d,        // x -> the mean of each window
  Conv2dInputGrad,  // dy, w -> dx
  Conv2dWeightGrad, // dy, x -> dw
  MaxPool2dGrad,    // dy, x -> dx: dy to each window's first maximum;
                    // attr positive: then 0 wherever x is not > 0
  AvgPool2dGrad,    // dy -> dx: dy / size^2 to every window element

  // The sequence family: rnn, lstm, embedding. A sample is [T, K], T steps
  // of K values. A recurrence is a matmul and bias_adds over all steps
  // (pre = x W_ih^T + b_ih + b_hh), then a scan op that walks the steps
  // with the shared W_hh. Shape rules are in ir/SequenceOps.cpp, kernels
  // in gradc/kernels_sequence.h.
  RnnTanhScan,     // pre[B,T,H], W_hh[H,H] -> h[B,T,H], every step's
  RnnReluScan,     //   h_t = act(pre_t + h_{t-1} W_hh^T)
  LstmScan,        // pre[B,T,4H], W_hh[4H,H] -> state[B,T,6H]: i f g o c h
  LstmHidden,      // state[B,T,6H] -> its h part [B,T,H]
  LastStep,        // x[B,T,K] -> x at the last step [B,K]
  Embedding,       // ids[B,T], W[V,D] -> the rows of W [B,T,D]
  RnnTanhScanGrad, // dh, h, W_hh -> dpre[B,T,H], back through time
  RnnReluScanGrad,
  LstmScanGrad,   // dstate, state, W_hh -> dpre[B,T,4H], back through time
  LstmHiddenGrad, // dh[B,T,H] -> dstate[B,T,6H], zero but the h part
  PrevHidden,     // h[B,T,H] or state[B,T,6H] -> h_{t-1}[B,T,H], 0 at t=0
  LastStepGrad,   // dy[B,K] -> [B,T,K], zero but at the last step
  EmbeddingGrad,  // dy[B,T,D], ids -> dW[V,D], repeated ids adding up

  // Nodes of the graph: form that combine others.
  Mul,    // a * b, elementwise
  Concat, // any number of inputs joined along attr axis (of one sample)
  Slice,  // attrs axis, offset, size: the part of x a concat input was

  // Update.
  SquaredNorm, // sum of squares of a gradient -> a scalar

  // Made by optimization passes, after autodiff.
  Fused,      // a chain of elementwise ops in one loop; see Node::steps
  Conv2dBias, // x, w, b: conv2d then channel_bias_add, then relu if attr
              // relu; conv2d's attrs (passes/FuseConvolution.h)
};

struct OpInfo {
  const char *name;
  int arity; // -1: any number of inputs
};

const OpInfo &opInfo(OpKind op);

inline const char *opName(OpKind op) { return opInfo(op).name; }

// The result type of `op` applied to inputs of the given types. Leaves
// and Reshape have no rule; their type is given when they are created.
// Mismatched inputs are a compiler bug: the graph builder has already
// reported every shape error the user can make.
TensorType inferType(OpKind op, const std::vector<TensorType> &inputs,
                     const Attrs &attrs = {});

// The channel count of a per-channel op's input: the first axis of a
// sample, [C] or [C,H,W].
int64_t channelCount(const TensorType &type);

// Checks a shape rule's condition; failing it is a compiler bug, reported
// as an internal error naming the op, its input shapes and its attrs.
void expectShapeRule(bool condition, OpKind op,
                     const std::vector<TensorType> &inputs,
                     const Attrs &attrs = {});

// Elementwise ops whose output has the shape of their first input.
bool isElementwise(OpKind op);

// Ops that compute each element from the same element of their inputs (a
// bias from the same column) by a scalar expression, with no state and no
// randomness: what a fused loop can chain.
bool hasScalarForm(OpKind op);

} // namespace gradc

#endif // GRADC_IR_OP_H
