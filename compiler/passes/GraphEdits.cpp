//===- GraphEdits.cpp - What the rewriting passes share -------------------===//
//
// Reader counts, the values the step hands out, and removing nodes with
// renumbering, for the passes that fold nodes into others.
//
//===----------------------------------------------------------------------===//
#include "passes/GraphEdits.h"

#include "frontend/Diagnostics.h"

#include <utility>

namespace gradc {

std::vector<int> countReaders(const Graph &graph) {
  std::vector<int> readers(graph.nodes.size(), 0);
  for (const Node &node : graph.nodes)
    for (NodeId input : node.inputs)
      ++readers[input];
  return readers;
}

std::vector<bool> pinnedValues(const Graph &graph) {
  std::vector<bool> pinned(graph.nodes.size(), false);
  for (NodeId id :
       {graph.input, graph.labels, graph.targets, graph.output, graph.lossNode})
    if (id >= 0)
      pinned[id] = true;
  for (const Param &param : graph.params)
    for (NodeId id : {param.node, param.grad, param.sqNorm})
      if (id >= 0)
        pinned[id] = true;
  return pinned;
}

void removeNodes(Graph &graph, const std::vector<bool> &removed) {
  std::vector<NodeId> newId(graph.nodes.size(), -1);
  std::vector<Node> kept;
  for (Node &node : graph.nodes) {
    if (removed[node.id])
      continue;
    newId[node.id] = static_cast<NodeId>(kept.size());
    kept.push_back(std::move(node));
  }
  auto remap = [&newId](NodeId &id) {
    if (id < 0)
      return;
    internalCheck(newId[id] >= 0, "a fused-away node is still used");
    id = newId[id];
  };
  for (Node &node : kept) {
    node.id = newId[node.id];
    for (NodeId &input : node.inputs)
      remap(input);
  }
  graph.nodes = std::move(kept);
  for (Param &param : graph.params) {
    remap(param.node);
    remap(param.grad);
    remap(param.sqNorm);
  }
  for (NodeId *id : {&graph.input, &graph.labels, &graph.targets, &graph.output,
                     &graph.lossNode})
    remap(*id);
}

} // namespace gradc
