//===- SequenceGradRules.cpp - Chain rules of the sequence ops ------------===//
//
// Backpropagation through time, as graph nodes. A recurrence's scan op
// covers only the part that has to walk the steps one by one: its rule
// emits the backward scan, which gives the gradient of every step's
// pre-activation, and then the gradient of the shared weight W_hh as one
// product summed over all steps and samples. The input projection and the
// biases are ordinary matmul and bias_add nodes over [B,T,*], whose rules
// already sum over the steps. Shapes use B, T steps and H hidden units.
//
//===----------------------------------------------------------------------===//
#include "autodiff/SequenceGradRules.h"

namespace gradc {

void applySequenceGradRule(GradContext &g) {
  // A copy: emitting backward nodes grows the graph's node vector, which
  // would leave a reference into it dangling.
  const Node node = g.node();
  NodeId dy = g.dOutput();

  switch (node.op) {
  case OpKind::RnnTanhScan:
  case OpKind::RnnReluScan: {
    // h_t = act(pre_t + h_{t-1} W_hh^T), h_{-1} = 0; y = h [B,T,H]
    NodeId w = g.input(1), h = g.output();
    // dpre_t = (dy_t + dpre_{t+1} W_hh) * act'(h_t), from t = T-1 down
    OpKind backward = node.op == OpKind::RnnTanhScan ? OpKind::RnnTanhScanGrad
                                                     : OpKind::RnnReluScanGrad;
    NodeId dpre = g.emit(backward, {dy, h, w});
    if (g.needs(0))
      g.accumulate(0, dpre);
    // dW_hh[H,H] = sum over t of dpre_t^T h_{t-1}
    if (g.needs(1)) {
      NodeId previous = g.emitTyped(OpKind::PrevHidden, {h}, g.typeOf(h));
      g.accumulate(1, g.emit(OpKind::MatMulTN, {dpre, previous}));
    }
    return;
  }

  case OpKind::LstmScan: {
    // (i,f,g,o)_t = act(pre_t + h_{t-1} W_hh^T), c_t = f c_{t-1} + i g,
    // h_t = o tanh(c_t); y = state [B,T,6H], each step [i f g o c h]
    NodeId w = g.input(1), state = g.output();
    // dpre [B,T,4H] from the step equations, from t = T-1 down (see
    // lstmScanGrad in runtime/include/gradc/kernels_sequence.h)
    NodeId dpre = g.emit(OpKind::LstmScanGrad, {dy, state, w});
    if (g.needs(0))
      g.accumulate(0, dpre);
    // dW_hh[4H,H] = sum over t of dpre_t^T h_{t-1}
    if (g.needs(1)) {
      const TensorType &pre = g.typeOf(g.input(0));
      TensorType hidden = batchedType({pre.dims[0], g.typeOf(w).dims[1]});
      NodeId previous = g.emitTyped(OpKind::PrevHidden, {state}, hidden);
      g.accumulate(1, g.emit(OpKind::MatMulTN, {dpre, previous}));
    }
    return;
  }

  case OpKind::LstmHidden:
    // y = the h part of the state
    // dstate = dy in the h part, zero elsewhere
    if (g.needs(0))
      g.accumulate(0, g.emit(OpKind::LstmHiddenGrad, {dy}));
    return;

  case OpKind::LastStep:
    // y[B,K] = x[B,T-1,K]
    // dx[B,T,K] = dy at step T-1, zero elsewhere
    if (g.needs(0))
      g.accumulate(
          0, g.emitTyped(OpKind::LastStepGrad, {dy}, g.typeOf(g.input(0))));
    return;

  case OpKind::Embedding:
    // y[B,T,D] = W[ids[B,T], :]; the ids never need a gradient
    // dW[V,D] = sum over the (b, t) with ids[b,t] = v of dy[b,t,:]
    if (g.needs(1))
      g.accumulate(1, g.emitTyped(OpKind::EmbeddingGrad, {dy, g.input(0)},
                                  g.typeOf(g.input(1))));
    return;

  default:
    throw InternalError(std::string("op '") + opName(node.op) +
                        "' is not a sequence op with a gradient rule");
  }
}

} // namespace gradc
