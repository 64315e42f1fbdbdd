//===- GraphBuilderImpl.h - The graph builder, inside ----------*- C++ -*-===//
//
// The class behind buildForwardGraph(), shared by the files that define
// its parts: GraphBuilder.cpp (layers, loss, data checks) and
// GraphForm.cpp (residual blocks and the graph: form). Nothing outside
// compiler/ir includes it.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_IR_GRAPHBUILDERIMPL_H
#define GRADC_IR_GRAPHBUILDERIMPL_H

#include "frontend/ModelSpec.h"
#include "ir/Graph.h"

#include <optional>
#include <string>
#include <vector>

namespace gradc::detail {

class GraphBuilder {
public:
  explicit GraphBuilder(const ModelSpec &spec) : spec(spec) {}

  Graph build();

private:
  NodeId addLayer(const LayerSpec &layer, NodeId x);
  NodeId addDense(const LayerSpec &layer, NodeId x);
  // `alpha` is leaky_relu's slope or elu's scale; without it, PyTorch's
  // default for the activation.
  NodeId addActivation(const std::string &activation, NodeId x,
                       const std::string &layer,
                       std::optional<double> alpha = std::nullopt);
  NodeId addLayerNorm(const LayerSpec &layer, NodeId x);
  int addParam(const LayerSpec &layer, const std::string &suffix,
               std::vector<int64_t> shape, int64_t fanIn, int64_t fanOut);
  // A parameter whose initial value is fixed (normalization weights and
  // biases) or a buffer (running statistics), whatever `init:` says.
  int addFixedParam(const LayerSpec &layer, const std::string &suffix,
                    int64_t size, InitKind init, bool isBuffer);
  NodeId addBatchNorm(const LayerSpec &layer, NodeId x);
  // The sequence family.
  NodeId addRecurrent(const LayerSpec &layer, NodeId x);
  NodeId addEmbedding(const LayerSpec &layer, NodeId x);
  NodeId addConv2d(const LayerSpec &layer, NodeId x);
  NodeId addPool2d(const LayerSpec &layer, NodeId x);
  // Where a layer's input comes from, for messages: "(the output of
  // layer 'fc1')" or "(the model input)".
  std::string inputDescription() const;
  void checkSize(const SourceLoc &loc, const std::string &what,
                 const std::vector<int64_t> &dims, bool batched);
  void addLoss();
  void checkData(const SplitSpec &split, const std::string &splitName);

  // Adds a layer's nodes and its entry in graph.layers.
  NodeId addRecordedLayer(const LayerSpec &layer, NodeId x);
  NodeId addResidual(const LayerSpec &block, NodeId x);
  // The `graph:` form: builds the nodes the output needs, each after its
  // inputs, and returns the output.
  NodeId addGraphForm(NodeId input);
  NodeId addCombination(const LayerSpec &node);
  std::vector<NodeId> nodeInputs; // of the graph node being built

  const ModelSpec &spec;
  Graph graph;
  int currentLayer = -1;     // the layer whose nodes are being added
  std::string previousLayer; // the last layer completed, for messages
  __int128 totalBytes = 0;
};

} // namespace gradc::detail

#endif // GRADC_IR_GRAPHBUILDERIMPL_H
