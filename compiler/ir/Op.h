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

#include <string>
#include <vector>

namespace gradc {

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
  MatMulNN,   // dy[B,..,N] * W[N,K] -> [B,..,K]
  MatMulTN,   // dy[B,..,N]^T * x[B,..,K] -> [N,K]
  SumRows,    // dy[B,..,N] summed over all but the last axis -> [N]
  ReluGrad,   // dy * (y > 0), given the forward output y
  SigmoidGrad, // dy * y * (1 - y)
  TanhGrad,   // dy * (1 - y^2)
  Add,        // a + b, for gradients from several consumers
  SoftmaxCrossEntropyGrad, // (softmax(logits) - onehot(labels)) / B
  MeanSquaredErrorGrad,    // 2 (prediction - targets) / elements

  // Update.
  SquaredNorm, // sum of squares of a gradient -> a scalar
};

struct OpInfo {
  const char *name;
  int arity;
};

const OpInfo &opInfo(OpKind op);

inline const char *opName(OpKind op) { return opInfo(op).name; }

// The result type of `op` applied to inputs of the given types. Leaves
// and Reshape have no rule; their type is given when they are created.
// Mismatched inputs are a compiler bug: the graph builder has already
// reported every shape error the user can make.
TensorType inferType(OpKind op, const std::vector<TensorType> &inputs);

// Elementwise ops whose output has the shape of their first input.
bool isElementwise(OpKind op);

} // namespace gradc

#endif // GRADC_IR_OP_H
