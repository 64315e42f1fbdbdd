//===- MemoryPlan.cpp - Where every node's values live --------------------===//
//
// The arena is laid out in two regions: first every batched buffer, each
// at perSample * B, then every fixed-size buffer after all of them. Every
// node gets a buffer of its own for now; forward activations have to live
// until the backward pass reads them anyway, and reusing the memory of
// dead backward temporaries is left to a liveness-based planner.
//
//===----------------------------------------------------------------------===//
#include "passes/MemoryPlan.h"

namespace gradc {

// Buffers start on 64-byte boundaries, so vector loads of a row's start
// never straddle a cache line. For batched buffers this holds for any B,
// since the per-sample offset is a multiple of 16 elements.
static int64_t alignUp(int64_t elements) { return (elements + 15) / 16 * 16; }

MemoryPlan planMemory(const Graph &graph) {
  MemoryPlan plan;
  plan.storage.resize(graph.nodes.size());

  // 1. Parameters and their gradients share one layout.
  for (const Param &param : graph.params) {
    plan.paramOffsets.push_back(plan.paramSize);
    plan.storage[param.node] = {StorageKind::Params, 0, plan.paramSize, -1};
    if (param.grad >= 0)
      plan.storage[param.grad] = {StorageKind::Grads, 0, plan.paramSize, -1};
    plan.paramSize += param.type.elements();
  }

  // 2. Everything else by what it is.
  std::vector<NodeId> fixedBuffers;
  for (const Node &node : graph.nodes) {
    Storage &storage = plan.storage[node.id];
    if (storage.kind != StorageKind::Workspace)
      continue;

    switch (node.op) {
    case OpKind::Input:
      storage.kind = StorageKind::Input;
      continue;
    case OpKind::Labels:
      storage.kind = StorageKind::Labels;
      continue;
    case OpKind::Targets:
      storage.kind = StorageKind::Targets;
      continue;
    case OpKind::Reshape:
      storage.kind = StorageKind::Alias;
      storage.aliasOf = node.inputs[0];
      continue;
    case OpKind::SquaredNorm:
      storage.kind = StorageKind::SqNorm;
      storage.fixed = node.param;
      continue;
    default:
      break;
    }
    if (node.id == graph.lossNode) {
      storage.kind = StorageKind::Loss;
      continue;
    }

    if (node.type.batched) {
      storage.perSample = plan.workspacePerSample;
      plan.workspacePerSample += alignUp(node.type.elements());
    } else {
      fixedBuffers.push_back(node.id);
    }
  }

  // 3. Fixed buffers follow the batched region, which ends at
  //    workspacePerSample * B.
  for (NodeId id : fixedBuffers) {
    Storage &storage = plan.storage[id];
    storage.perSample = plan.workspacePerSample;
    storage.fixed = plan.workspaceFixed;
    plan.workspaceFixed += alignUp(graph.type(id).elements());
  }
  return plan;
}

} // namespace gradc
