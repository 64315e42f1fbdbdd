//===- Autodiff.cpp - Reverse-mode differentiation of a graph -------------===//
//
// The reverse sweep. Nodes are stored in topological order, so walking
// them backwards visits every consumer of a node before the node itself:
// by the time a node's rule runs, the gradients from all its consumers
// have been summed. A value used by several consumers gets the sum of
// their gradients through explicit add nodes.
//
//===----------------------------------------------------------------------===//
#include "autodiff/Autodiff.h"

#include "autodiff/GradRules.h"

namespace gradc {

void differentiate(Graph &graph) {
  internalCheck(graph.lossNode >= 0, "autodiff needs a loss node");
  size_t forwardSize = graph.nodes.size();

  // 1. A node needs a gradient when a trainable parameter flows into it;
  //    gradients of the input, the labels and buffers are never needed.
  std::vector<bool> needsGrad(forwardSize, false);
  for (const Node &node : graph.nodes) {
    if (node.op == OpKind::Parameter && !graph.params[node.param].isBuffer)
      needsGrad[node.id] = true;
    for (NodeId input : node.inputs)
      if (needsGrad[input])
        needsGrad[node.id] = true;
  }

  // 2. Sweep from the loss back to the leaves, summing the gradients that
  //    each rule hands to its inputs.
  std::vector<NodeId> grads(forwardSize, -1);
  grads[graph.lossNode] = SeedGradient;
  auto needs = [&](NodeId id) { return needsGrad.at(id); };
  auto accumulate = [&](NodeId input, NodeId grad) {
    NodeId &sum = grads.at(input);
    if (sum < 0)
      sum = grad;
    else
      sum = graph.add(OpKind::Add, {sum, grad}, Role::Backward,
                      graph.node(input).layer);
  };

  for (NodeId id = static_cast<NodeId>(forwardSize) - 1; id >= 0; --id) {
    if (grads[id] == -1 || !needsGrad[id])
      continue;
    if (graph.node(id).op == OpKind::Parameter)
      continue;
    GradContext context(graph, id, grads[id], needs, accumulate);
    applyGradRule(context);
  }

  // 3. Record each parameter's gradient and its squared norm, which the
  //    trainer logs and uses for clipping.
  for (size_t i = 0; i < graph.params.size(); ++i) {
    Param &param = graph.params[i];
    if (param.isBuffer)
      continue;
    param.grad = grads[param.node];
    internalCheck(param.grad >= 0,
                  "the loss does not depend on '" + param.name + "'");
    param.sqNorm = graph.add(OpKind::SquaredNorm, {param.grad}, Role::Update,
                             graph.layers.at(param.layer).name);
    graph.nodes[param.sqNorm].param = static_cast<int>(i);
  }
}

} // namespace gradc
