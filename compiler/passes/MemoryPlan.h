//===- MemoryPlan.h - Where every node's values live -----------*- C++ -*-===//
//
// Assigns each node of a differentiated graph its storage: the trainer's
// inputs, the flat parameter and gradient arrays, the loss and norm
// outputs, or a place in one workspace arena. Offsets in the arena are
// `perSample * B + fixed` elements, since the batch size is chosen when
// the trainer runs. Buffers that are never live at the same time share
// memory (see MemoryPlan.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_PASSES_MEMORYPLAN_H
#define GRADC_PASSES_MEMORYPLAN_H

#include "ir/Graph.h"

namespace gradc {

enum class StorageKind {
  Input,     // the batch the trainer passes in
  Labels,    // its class ids
  Targets,   // its float targets
  Params,    // the flat parameter array
  Grads,     // the flat gradient array, laid out like the parameters
  Loss,      // the one-element loss output
  SqNorm,    // one element of the squared-norm output
  Alias,     // the same memory as another node (reshapes)
  Workspace, // the arena
};

struct Storage {
  StorageKind kind = StorageKind::Workspace;
  int64_t perSample = 0; // Workspace: offset = perSample * B + fixed
  int64_t fixed = 0;     // Params, Grads: offset; SqNorm: index
  NodeId aliasOf = -1;
};

// The totals, in elements, of the workspace buffers live at one point of
// the step: perSample * B + fixed at batch B.
struct LiveTotal {
  int64_t perSample = 0;
  int64_t fixed = 0;
  bool operator==(const LiveTotal &) const = default;
};

struct MemoryPlan {
  std::vector<Storage> storage; // one per node
  std::vector<int64_t> paramOffsets;
  int64_t paramSize = 0;
  int64_t workspacePerSample = 0;
  int64_t workspaceFixed = 0;
  // The Pareto-maximal live totals over the step, by perSample descending
  // (unaligned sizes). No arena can hold the buffers in less than the
  // largest perSample * B + fixed among them: see workspaceLowerBound.
  std::vector<LiveTotal> livePeaks;
};

MemoryPlan planMemory(const Graph &graph);

// The arena's size in elements at batch B.
int64_t workspaceElements(const MemoryPlan &plan, int64_t batch);
// The largest total of simultaneously live workspace buffers at batch B.
int64_t workspaceLowerBound(const MemoryPlan &plan, int64_t batch);

} // namespace gradc

#endif // GRADC_PASSES_MEMORYPLAN_H
