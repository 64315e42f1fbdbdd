//===- GradRules.cpp - One chain-rule rule per op -------------------------===//
//
// Each rule follows the same shape: name the upstream gradient dy, then
// for each input that needs a gradient, state the derivative in a comment
// and accumulate it. Shapes use B for the batch and the layer's sizes,
// N outputs and K inputs, as in the op table.
//
//===----------------------------------------------------------------------===//
#include "autodiff/GradRules.h"

namespace gradc {

NodeId GradContext::emit(OpKind op, std::vector<NodeId> inputs) {
  return graph.add(op, std::move(inputs), Role::Backward, node().layer);
}

NodeId GradContext::emitTyped(OpKind op, std::vector<NodeId> inputs,
                              TensorType type) {
  return graph.addTyped(op, std::move(inputs), std::move(type),
                        Role::Backward, node().layer);
}

void applyGradRule(GradContext &g) {
  const Node &node = g.node();
  NodeId dy = g.dOutput();
  bool isLoss = node.op == OpKind::SoftmaxCrossEntropy ||
                node.op == OpKind::MeanSquaredError;
  internalCheck((dy == SeedGradient) == isLoss,
                std::string("'") + opName(node.op) +
                    "' got a gradient of the wrong kind");

  switch (node.op) {
  case OpKind::MatMulNT: {
    // y[B,N] = x[B,K] W[N,K]^T
    NodeId x = g.input(0), w = g.input(1);
    // dx[B,K] = dy[B,N] W[N,K]
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::MatMulNN, {dy, w}));
    // dW[N,K] = dy[B,N]^T x[B,K]
    if (g.needs(1))
      g.accumulate(1, g.emit(OpKind::MatMulTN, {dy, x}));
    return;
  }

  case OpKind::BiasAdd:
    // y = x + b, with b broadcast over the batch
    // dx = dy
    if (g.needs(0))
      g.accumulate(0, dy);
    // db[N] = sum over the batch of dy[B,N]
    if (g.needs(1))
      g.accumulate(1, g.emit(OpKind::SumRows, {dy}));
    return;

  // The activations' derivatives are written in terms of their output y,
  // which the forward pass has already computed.
  case OpKind::Relu:
    // dx = dy * (y > 0)
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::ReluGrad, {dy, g.output()}));
    return;

  case OpKind::Sigmoid:
    // dx = dy * y * (1 - y)
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::SigmoidGrad, {dy, g.output()}));
    return;

  case OpKind::Tanh:
    // dx = dy * (1 - y^2)
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::TanhGrad, {dy, g.output()}));
    return;

  case OpKind::Reshape:
    // The same elements in a different shape: dx is dy reshaped back.
    if (g.needs(0))
      g.accumulate(0, g.emitTyped(OpKind::Reshape, {dy},
                                  g.typeOf(g.input(0))));
    return;

  case OpKind::SoftmaxCrossEntropy:
    // loss = mean over b of (logsumexp(z_b) - z_b[label_b])
    // dz[B,C] = (softmax(z) - onehot(label)) / B
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::SoftmaxCrossEntropyGrad,
                             {g.input(0), g.input(1)}));
    return;

  case OpKind::MeanSquaredError:
    // loss = mean over all E elements of (p - t)^2
    // dp = 2 (p - t) / E
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::MeanSquaredErrorGrad,
                             {g.input(0), g.input(1)}));
    return;

  default:
    throw InternalError(std::string("op '") + opName(node.op) +
                        "' has no gradient rule");
  }
}

} // namespace gradc
