//===- GradRules.h - One chain-rule rule per op -----------------*- C++ -*-===//
//
// The interface between the reverse sweep (Autodiff.cpp) and the rules
// (GradRules.cpp). A rule sees one forward node and the gradient flowing
// into its output, and adds nodes for the gradient of each input.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_AUTODIFF_GRADRULES_H
#define GRADC_AUTODIFF_GRADRULES_H

#include "ir/Graph.h"

#include <functional>

namespace gradc {

// The gradient arriving at the loss is the constant 1. It has no node:
// loss rules produce d loss / d input directly.
constexpr NodeId SeedGradient = -2;

class GradContext {
public:
  using Accumulate = std::function<void(NodeId input, NodeId grad)>;
  using Needs = std::function<bool(NodeId input)>;

  GradContext(Graph &graph, NodeId node, NodeId outputGrad, Needs needs,
              Accumulate accumulate)
      : graph(graph), nodeId(node), outputGrad(outputGrad),
        needsFn(std::move(needs)), accumulateFn(std::move(accumulate)) {}

  const Node &node() const { return graph.node(nodeId); }
  NodeId input(int i) const { return node().inputs.at(i); }
  NodeId output() const { return nodeId; }
  NodeId dOutput() const { return outputGrad; }
  const TensorType &typeOf(NodeId id) const { return graph.type(id); }

  // Whether the loss depends on input i through a parameter, that is,
  // whether its gradient is worth computing.
  bool needs(int i) const { return needsFn(input(i)); }

  // Adds a backward node, attributed to the same layer as the forward one.
  NodeId emit(OpKind op, std::vector<NodeId> inputs, Attrs attrs = {});
  NodeId emitTyped(OpKind op, std::vector<NodeId> inputs, TensorType type,
                   Attrs attrs = {});

  // Adds `grad` to the gradient of input i.
  void accumulate(int i, NodeId grad) { accumulateFn(input(i), grad); }

private:
  Graph &graph;
  NodeId nodeId;
  NodeId outputGrad;
  Needs needsFn;
  Accumulate accumulateFn;
};

// Applies the chain-rule rule of the context's node.
void applyGradRule(GradContext &context);

} // namespace gradc

#endif // GRADC_AUTODIFF_GRADRULES_H
