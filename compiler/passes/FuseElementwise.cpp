//===- FuseElementwise.cpp - Chains of elementwise ops in one loop --------===//
//
// A node that is elementwise and whose value only one elementwise consumer
// reads is folded into that consumer: the two become one fused node that
// computes both per element, and the intermediate tensor is never stored.
// Forward, this joins each dense layer's bias add with its activation;
// backward, a gradient sum with the activation's derivative. A value that
// anything else reads (the backward pass reading an activation, a product,
// the output, a gradient) stays stored, which is how the backward pass
// reuses forward results instead of recomputing them.
//
//===----------------------------------------------------------------------===//
#include "passes/FuseElementwise.h"

#include "passes/GraphEdits.h"

#include <algorithm>

namespace gradc {

namespace {

bool isFusable(OpKind op) {
  return op == OpKind::Fused || hasScalarForm(op);
}

// A plain elementwise node as a fused node of one step.
void makeFused(Node &node) {
  if (node.op == OpKind::Fused)
    return;
  FusedStep step;
  step.op = node.op;
  for (size_t i = 0; i < node.inputs.size(); ++i)
    step.operands.push_back(static_cast<int>(i));
  step.attrs = std::move(node.attrs);
  node.attrs.clear();
  node.steps = {std::move(step)};
  node.op = OpKind::Fused;
}

// Folds `producer` into `consumer`, which reads it as input `slot`: the
// producer's steps come first, then the consumer's, reading the
// producer's last step where they read its value.
void absorb(Node &consumer, int slot, Node &producer) {
  makeFused(producer);
  makeFused(consumer);

  std::vector<NodeId> inputs = producer.inputs;
  auto inputIndex = [&inputs](NodeId id) {
    auto found = std::find(inputs.begin(), inputs.end(), id);
    if (found != inputs.end())
      return static_cast<int>(found - inputs.begin());
    inputs.push_back(id);
    return static_cast<int>(inputs.size() - 1);
  };

  std::vector<FusedStep> steps = producer.steps;
  const int producerSteps = static_cast<int>(producer.steps.size());
  for (FusedStep step : consumer.steps) {
    for (int &operand : step.operands) {
      if (operand == slot)
        operand = -producerSteps; // -1 - (producerSteps - 1)
      else if (operand >= 0)
        operand = inputIndex(consumer.inputs[operand]);
      else
        operand -= producerSteps;
    }
    steps.push_back(std::move(step));
  }
  consumer.inputs = std::move(inputs);
  consumer.steps = std::move(steps);
}

} // namespace

int fuseElementwise(Graph &graph) {
  const size_t count = graph.nodes.size();

  // Values something outside the step's own loops needs stored.
  std::vector<int> readers = countReaders(graph);
  const std::vector<bool> pinned = pinnedValues(graph);

  std::vector<bool> removed(count, false);
  int fusions = 0;
  for (Node &consumer : graph.nodes) {
    if (!isFusable(consumer.op))
      continue;
    // Each absorbed producer brings its own inputs, which may in turn be
    // fusable, so look again until nothing changes.
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t slot = 0; slot < consumer.inputs.size(); ++slot) {
        Node &producer = graph.nodes[consumer.inputs[slot]];
        if (!isFusable(producer.op) || readers[producer.id] != 1 ||
            pinned[producer.id] || producer.role != consumer.role ||
            producer.type != consumer.type)
          continue;
        // An input both read becomes one read of the fused node.
        for (NodeId input : producer.inputs)
          if (std::count(consumer.inputs.begin(), consumer.inputs.end(),
                         input) > 0)
            --readers[input];
        removed[producer.id] = true;
        absorb(consumer, static_cast<int>(slot), producer);
        ++fusions;
        changed = true;
        break;
      }
    }
  }

  if (fusions > 0)
    removeNodes(graph, removed);
  return fusions;
}

} // namespace gradc
