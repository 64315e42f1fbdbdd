//===- MemoryPlan.cpp - Where every node's values live --------------------===//
//
// Workspace buffers share memory by liveness. The step runs the nodes in
// graph order (forward, loss, backward, update), so a buffer is live from
// the node that writes it to the last node that reads it, directly or
// through reshapes that alias it; the model's output stays live until the
// step copies it out, where the loss section begins. Buffers whose live
// intervals are disjoint may overlap in memory. The intervals are closed,
// so a node's output never overlaps one of its inputs: no kernel is
// written to work in place.
//
// Sizes are affine in the batch B, which is chosen when the trainer runs,
// so the arena keeps two regions: the batched buffers (s * B elements) at
// offsets p * B, then the fixed-size buffers at P * B + f, past the
// batched region's end P * B. Packing each region on its own in its own
// unit (elements per sample, elements) gives a layout that is valid at
// every B. A region is packed as intervals over time: buffers are placed
// one at a time, each in the smallest gap left by the placed buffers live
// at the same time (best fit), or past them all. A few orders are tried
// (largest first, earliest first, longest lived first) and the smallest
// region is kept. On every model in models/ the arena this gives equals
// the lower bound below; layers narrower than 16 values lose only to the
// rounding that follows.
//
// Sizes are rounded up to 16 elements, so every offset is a multiple of 16
// elements (64 bytes of float) from the arena's start for any B, which
// keeps the kernels' vector loads of a buffer's start aligned as the
// arena's start is.
//
// The lower bound: at each node, the totals (per sample, fixed) of the
// buffers live there, unrounded. No arena can be smaller than the largest
// perSample * B + fixed among them. Which point is largest depends on B,
// so the plan keeps every Pareto-maximal total, and the model table
// carries them, so that `info` can state the bound at any batch.
//
//===----------------------------------------------------------------------===//
#include "passes/MemoryPlan.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

namespace gradc {

static int64_t alignUp(int64_t elements) { return (elements + 15) / 16 * 16; }

namespace {

// One workspace buffer of a region, live over the closed interval of node
// positions [first, last].
struct Buffer {
  NodeId node = -1;
  int64_t size = 0; // rounded elements: per sample, or fixed
  int first = 0;
  int last = 0;
};

bool liveTogether(const Buffer &a, const Buffer &b) {
  return a.first <= b.last && b.first <= a.last;
}

// Places the buffers in the given order, each at the start of the smallest
// gap that holds it among the buffers already placed and live at the same
// time. Returns the region's size.
int64_t placeInOrder(const std::vector<Buffer> &buffers,
                     const std::vector<size_t> &order,
                     std::vector<int64_t> &offsets) {
  offsets.assign(buffers.size(), -1);
  std::vector<size_t> placed;
  std::vector<std::pair<int64_t, int64_t>> taken;
  int64_t regionEnd = 0;
  for (size_t index : order) {
    const Buffer &buffer = buffers[index];
    taken.clear();
    for (size_t other : placed)
      if (liveTogether(buffer, buffers[other]))
        taken.emplace_back(offsets[other],
                           offsets[other] + buffers[other].size);
    std::sort(taken.begin(), taken.end());

    int64_t best = -1;
    int64_t bestGap = std::numeric_limits<int64_t>::max();
    int64_t cursor = 0;
    for (const auto &[from, to] : taken) {
      const int64_t gap = from - cursor;
      if (gap >= buffer.size && gap < bestGap) {
        best = cursor;
        bestGap = gap;
      }
      cursor = std::max(cursor, to);
    }
    if (best < 0)
      best = cursor;
    offsets[index] = best;
    regionEnd = std::max(regionEnd, best + buffer.size);
    placed.push_back(index);
  }
  return regionEnd;
}

// Packs one region, trying a few orders; returns its size and sets
// `offsets`, one per buffer.
int64_t packRegion(const std::vector<Buffer> &buffers,
                   std::vector<int64_t> &offsets) {
  auto bySize = [&](size_t a, size_t b) {
    const Buffer &x = buffers[a], &y = buffers[b];
    return std::tie(y.size, x.first, x.node) <
           std::tie(x.size, y.first, y.node);
  };
  auto byStart = [&](size_t a, size_t b) {
    const Buffer &x = buffers[a], &y = buffers[b];
    return std::tie(x.first, y.size, x.node) <
           std::tie(y.first, x.size, y.node);
  };
  auto byLifetime = [&](size_t a, size_t b) {
    const Buffer &x = buffers[a], &y = buffers[b];
    const int spanX = x.last - x.first, spanY = y.last - y.first;
    return std::tie(spanY, y.size, x.node) < std::tie(spanX, x.size, y.node);
  };

  std::vector<size_t> order(buffers.size());
  std::vector<int64_t> candidate;
  int64_t best = -1;
  auto tryOrder = [&](auto less) {
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(), less);
    const int64_t size = placeInOrder(buffers, order, candidate);
    if (best < 0 || size < best) {
      best = size;
      offsets = candidate;
    }
  };
  tryOrder(bySize);
  tryOrder(byStart);
  tryOrder(byLifetime);
  return best;
}

} // namespace

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
    if (node.id == graph.lossNode)
      storage.kind = StorageKind::Loss;
  }

  // 3. Liveness, in node positions. A read through an alias is a read of
  //    the memory it aliases.
  const int count = static_cast<int>(graph.nodes.size());
  auto memoryOf = [&](NodeId id) {
    while (plan.storage[id].kind == StorageKind::Alias)
      id = plan.storage[id].aliasOf;
    return id;
  };
  std::vector<int> lastRead(graph.nodes.size(), -1);
  int firstLoss = count - 1;
  for (int position = 0; position < count; ++position) {
    const Node &node = graph.nodes[position];
    internalCheck(node.id == position, "graph nodes are out of order");
    if (node.role == Role::Loss)
      firstLoss = std::min(firstLoss, position);
    for (NodeId input : node.inputs) {
      NodeId memory = memoryOf(input);
      lastRead[memory] = std::max(lastRead[memory], position);
    }
  }
  // The step copies the output out where the loss section begins.
  if (graph.output >= 0) {
    NodeId memory = memoryOf(graph.output);
    lastRead[memory] = std::max(lastRead[memory], firstLoss);
  }

  std::vector<Buffer> batched, fixed;
  std::vector<int64_t> livePerSample(graph.nodes.size() + 1, 0);
  std::vector<int64_t> liveFixed(graph.nodes.size() + 1, 0);
  for (const Node &node : graph.nodes) {
    if (plan.storage[node.id].kind != StorageKind::Workspace)
      continue;
    Buffer buffer{node.id, alignUp(node.type.elements()), node.id,
                  std::max(node.id, lastRead[node.id])};
    (node.type.batched ? batched : fixed).push_back(buffer);
    std::vector<int64_t> &live = node.type.batched ? livePerSample : liveFixed;
    live[buffer.first] += node.type.elements();
    live[buffer.last + 1] -= node.type.elements();
  }

  // 4. Pack the batched region, then the fixed one after it.
  std::vector<int64_t> offsets;
  plan.workspacePerSample = packRegion(batched, offsets);
  for (size_t i = 0; i < batched.size(); ++i)
    plan.storage[batched[i].node].perSample = offsets[i];
  plan.workspaceFixed = packRegion(fixed, offsets);
  for (size_t i = 0; i < fixed.size(); ++i) {
    Storage &storage = plan.storage[fixed[i].node];
    storage.perSample = plan.workspacePerSample;
    storage.fixed = offsets[i];
  }

  // 5. The live totals at each node, and those no other total dominates.
  std::vector<LiveTotal> totals;
  LiveTotal running;
  for (int position = 0; position < count; ++position) {
    running.perSample += livePerSample[position];
    running.fixed += liveFixed[position];
    totals.push_back(running);
  }
  std::sort(totals.begin(), totals.end(),
            [](const LiveTotal &a, const LiveTotal &b) {
              return std::tie(b.perSample, b.fixed) <
                     std::tie(a.perSample, a.fixed);
            });
  int64_t mostFixed = -1;
  for (const LiveTotal &total : totals) {
    if (total.fixed <= mostFixed || (total.perSample == 0 && total.fixed == 0))
      continue;
    mostFixed = total.fixed;
    plan.livePeaks.push_back(total);
  }
  return plan;
}

int64_t workspaceElements(const MemoryPlan &plan, int64_t batch) {
  return plan.workspacePerSample * batch + plan.workspaceFixed;
}

int64_t workspaceLowerBound(const MemoryPlan &plan, int64_t batch) {
  int64_t bound = 0;
  for (const LiveTotal &peak : plan.livePeaks)
    bound = std::max(bound, peak.perSample * batch + peak.fixed);
  return bound;
}

} // namespace gradc
