//===- GradRules.cpp - One chain-rule rule per op -------------------------===//
//
// Each rule follows the same shape: name the upstream gradient dy, then
// for each input that needs a gradient, state the derivative in a comment
// and accumulate it. Shapes use B for the batch and the layer's sizes,
// N outputs and K inputs, as in the op table.
//
//===----------------------------------------------------------------------===//
#include "autodiff/GradRules.h"

#include "autodiff/SequenceGradRules.h"
#include "ir/ConvOps.h"

namespace gradc {

NodeId GradContext::emit(OpKind op, std::vector<NodeId> inputs,
                         Attrs attrs) {
  return graph.add(op, std::move(inputs), Role::Backward, node().layer,
                   std::move(attrs));
}

NodeId GradContext::emitTyped(OpKind op, std::vector<NodeId> inputs,
                              TensorType type, Attrs attrs) {
  return graph.addTyped(op, std::move(inputs), std::move(type),
                        Role::Backward, node().layer, std::move(attrs));
}

void applyGradRule(GradContext &g) {
  // A copy: emitting backward nodes grows the graph's node vector, which
  // would leave a reference into it dangling.
  const Node node = g.node();
  NodeId dy = g.dOutput();
  bool isLoss = node.op == OpKind::SoftmaxCrossEntropy ||
                node.op == OpKind::MeanSquaredError ||
                node.op == OpKind::BceWithLogits;
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

  case OpKind::Add:
    // y = a + b
    // da = dy, db = dy
    if (g.needs(0))
      g.accumulate(0, dy);
    if (g.needs(1))
      g.accumulate(1, dy);
    return;

  case OpKind::Mul:
    // y = a * b
    // da = dy * b, db = dy * a
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::Mul, {dy, g.input(1)}));
    if (g.needs(1))
      g.accumulate(1, g.emit(OpKind::Mul, {dy, g.input(0)}));
    return;

  case OpKind::Concat: {
    // y = [x_0, x_1, ...] along the axis
    // dx_i = the part of dy where x_i was
    auto axis = node.attrs.at("axis");
    double offset = 0;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      double size = g.typeOf(g.input(i)).dims.at(static_cast<size_t>(axis));
      if (g.needs(static_cast<int>(i)))
        g.accumulate(static_cast<int>(i),
                     g.emit(OpKind::Slice, {dy},
                            {{"axis", axis}, {"offset", offset},
                             {"size", size}}));
      offset += size;
    }
    return;
  }

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

  // The elementwise, normalization and regularization family. Emitting a
  // node may move the graph's nodes, so each rule copies the forward
  // node's attributes before it emits anything.
  case OpKind::LeakyRelu: {
    // y = x > 0 ? x : alpha x
    Attrs attrs = node.attrs;
    // dx = x > 0 ? dy : alpha dy
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::LeakyReluGrad, {dy, g.input(0)}, attrs));
    return;
  }

  case OpKind::Elu: {
    // y = x > 0 ? x : alpha (e^x - 1)
    Attrs attrs = node.attrs;
    // dx = x > 0 ? dy : dy alpha e^x
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::EluGrad, {dy, g.input(0)}, attrs));
    return;
  }

  case OpKind::Gelu:
    // y = x Phi(x)
    // dx = dy (Phi(x) + x phi(x)), phi the standard normal density
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::GeluGrad, {dy, g.input(0)}));
    return;

  case OpKind::Softplus:
    // y = log(1 + e^x), or x where x > 20
    // dx = dy e^x / (1 + e^x), or dy where x > 20
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::SoftplusGrad, {dy, g.input(0)}));
    return;

  case OpKind::Softmax:
    // y = e^x / sum(e^x) over the last axis
    // dx = y (dy - sum(dy y)), the sum over the same axis
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::SoftmaxGrad, {dy, g.output()}));
    return;

  case OpKind::Dropout: {
    // y = x mask / (1 - rate) while training, mask drawn from the seed
    Attrs attrs = node.attrs;
    // dx = dy mask / (1 - rate), the same mask recomputed
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::DropoutGrad, {dy}, attrs));
    return;
  }

  case OpKind::LayerNorm: {
    // y[B,..,N] = xhat w + b, xhat = (x - mean) / sqrt(var + eps) per row
    NodeId x = g.input(0), w = g.input(1);
    Attrs attrs = node.attrs;
    // dx = (g - mean(g) - xhat mean(g xhat)) / sqrt(var + eps), g = dy w
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::LayerNormGrad, {dy, x, w}, attrs));
    // dw[N] = sum over the rows of dy xhat
    if (g.needs(1))
      g.accumulate(1, g.emit(OpKind::LayerNormWeightGrad, {dy, x}, attrs));
    // db[N] = sum over the rows of dy
    if (g.needs(2))
      g.accumulate(2, g.emit(OpKind::SumRows, {dy}));
    return;
  }

  case OpKind::BceWithLogits:
    // loss = mean over all E elements of
    //        max(z, 0) - z t + log(1 + e^-|z|)
    // dz = (sigmoid(z) - t) / E
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::BceWithLogitsGrad,
                             {g.input(0), g.input(1)}));
    return;

  case OpKind::BatchNormApply: {
    // y = (x - mean) invstd w + b, per channel, with (mean, invstd) = stats
    NodeId x = g.input(0), stats = g.input(1), w = g.input(2);
    // dx = dy w invstd, the path that holds the statistics fixed
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::BatchNormInputGrad, {dy, stats, w}));
    // d mean = -sum(dy w invstd), d invstd = sum(dy w (x - mean))
    if (g.needs(1))
      g.accumulate(1, g.emit(OpKind::BatchNormStatsGrad, {dy, x, stats, w}));
    // dw = sum(dy xhat), xhat = (x - mean) invstd
    if (g.needs(2))
      g.accumulate(2, g.emit(OpKind::BatchNormWeightGrad, {dy, x, stats}));
    // db = sum(dy)
    if (g.needs(3))
      g.accumulate(3, g.emit(OpKind::ChannelSum, {dy}));
    return;
  }

  case OpKind::BatchNormStats:
    // mean = sum(x) / n, invstd = (sum((x - mean)^2) / n + eps)^(-1/2)
    // dx = d mean / n - d invstd invstd^3 (x - mean) / n; the mean's own
    // effect on the variance vanishes because sum(x - mean) = 0.
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::BatchNormStatsInputGrad,
                             {dy, g.input(0), g.output()}));
    return;

  // The convolutional family. A gradient slides the forward node's window,
  // so it gets the forward attrs, and the input's extent where its own
  // inputs do not show it. The attrs are copied first: emitting a node may
  // move the forward node.
  case OpKind::Conv2d: {
    // y[F,p,q] = sum over c, i, j of w[F,c,i,j] x[c, p s + i, q s + j],
    // x read as zero in the padding
    NodeId x = g.input(0), w = g.input(1);
    Attrs attrs = node.attrs;
    Attrs inputAttrs = withInputExtent(attrs, g.typeOf(x));
    // dx[c,h,v] = sum over F and the (p, i), (q, j) with p s + i = h and
    //             q s + j = v of dy[F,p,q] w[F,c,i,j]
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::Conv2dInputGrad, {dy, w}, inputAttrs));
    // dw[F,c,i,j] = sum over the batch, p and q of dy[F,p,q] x[c,p s+i,q s+j]
    if (g.needs(1))
      g.accumulate(1, g.emit(OpKind::Conv2dWeightGrad, {dy, x}, attrs));
    return;
  }

  case OpKind::ChannelBiasAdd:
    // y = x + b[C], with b broadcast over the batch and the positions
    // dx = dy
    if (g.needs(0))
      g.accumulate(0, dy);
    // db[C] = sum of dy over the batch and the positions
    if (g.needs(1))
      g.accumulate(1, g.emit(OpKind::ChannelSum, {dy}));
    return;

  case OpKind::MaxPool2d: {
    // y = the maximum of each window of x
    Attrs attrs = node.attrs;
    // dx = dy at the first maximum of each window, 0 elsewhere
    if (g.needs(0))
      g.accumulate(0,
                   g.emit(OpKind::MaxPool2dGrad, {dy, g.input(0)}, attrs));
    return;
  }

  case OpKind::AvgPool2d: {
    // y = the mean of each window of x
    Attrs attrs = withInputExtent(node.attrs, g.typeOf(g.input(0)));
    // dx = dy / size^2 at every element of each window
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::AvgPool2dGrad, {dy}, attrs));
    return;
  }

  // The sequence family: backpropagation through time, in
  // autodiff/SequenceGradRules.cpp.
  case OpKind::RnnTanhScan:
  case OpKind::RnnReluScan:
  case OpKind::LstmScan:
  case OpKind::LstmHidden:
  case OpKind::LastStep:
  case OpKind::Embedding:
    return applySequenceGradRule(g);

  default:
    throw InternalError(std::string("op '") + opName(node.op) +
                        "' has no gradient rule");
  }
}

} // namespace gradc
