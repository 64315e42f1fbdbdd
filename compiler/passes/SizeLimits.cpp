//===- SizeLimits.cpp - Refuse models too large to run --------------------===//
//
// Sizes are multiplied in 128-bit arithmetic, so no model can wrap around
// to a plausible number. Messages point at the layer whose tensor is too
// large, or at the batch size for the total.
//
//===----------------------------------------------------------------------===//
#include "passes/SizeLimits.h"

#include "ir/GraphBuilder.h"

#include <fmt/format.h>

namespace gradc {

// The optimizer keeps at most two tensors per parameter (Adam's moments),
// besides the parameter and its gradient.
constexpr int CopiesPerParameter = 4;

static SourceLoc layerLocation(const ModelSpec &spec, const Graph &graph,
                               const std::string &layerName) {
  for (const Layer &layer : graph.layers)
    if (layer.name == layerName)
      return layer.loc;
  return spec.batchLoc.line > 0 ? spec.batchLoc : spec.nameLoc;
}

void checkSizeLimits(const ModelSpec &spec, const Graph &graph,
                     const MemoryPlan &plan) {
  const __int128 batch = spec.train.batch;

  for (const Node &node : graph.nodes) {
    __int128 elements = node.type.elements();
    if (node.type.batched)
      elements *= batch;
    if (elements <= MaxTensorElements)
      continue;
    userError(layerLocation(spec, graph, node.layer),
              fmt::format("'{}' of layer '{}' would have {} elements at "
                          "batch {}, more than the limit of 2^31",
                          opName(node.op), node.layer,
                          static_cast<int64_t>(elements), spec.train.batch),
              "use a smaller batch or narrower layers");
  }

  __int128 elements = __int128(plan.paramSize) * CopiesPerParameter +
                      __int128(plan.workspacePerSample) * batch +
                      plan.workspaceFixed;
  __int128 bytes = elements * 4;
  if (bytes > MaxModelBytes)
    userError(spec.batchLoc.line > 0 ? spec.batchLoc : spec.nameLoc,
              fmt::format("the model needs {:.1f} GiB at batch {} "
                          "(parameters, gradients, optimizer state and "
                          "every activation), more than the limit of 16 GiB",
                          static_cast<double>(bytes) / (1 << 30),
                          spec.train.batch),
              "use a smaller batch, or fewer or narrower layers");
}

} // namespace gradc
