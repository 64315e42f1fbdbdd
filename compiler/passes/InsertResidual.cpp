//===- InsertResidual.cpp - The residual mitigation pass ------------------===//
//
// Which layers preserve their input's shape is only known after shape
// inference, so the pass builds the forward graph of the model as it
// stands and reads every top-level layer's output shape from it. Layers
// already inside residual blocks are left as they are.
//
//===----------------------------------------------------------------------===//
#include "passes/InsertResidual.h"

#include "ir/GraphBuilder.h"

#include <algorithm>
#include <map>

namespace gradc {

// Layers that ride along with the dense or conv2d layer before them.
static bool followsItsLayer(const LayerSpec &layer) {
  static const std::vector<std::string> Riders = {
      "batchnorm", "layernorm",  "dropout", "relu", "sigmoid",
      "tanh",      "leaky_relu", "elu",     "gelu", "softplus"};
  return std::find(Riders.begin(), Riders.end(), layer.op) != Riders.end();
}

bool insertResidual(ModelSpec &spec) {
  const int64_t runLength = spec.passes.residual;
  if (runLength <= 0)
    return false;
  if (spec.isGraph)
    userError(!spec.passes.residualLoc.file.empty() ? spec.passes.residualLoc
                                                    : spec.nameLoc,
              "the residual pass rewrites a chain of 'layers'",
              "in a 'graph:' model, write the skips with 'add' nodes");

  // 1. Every top-level layer's output shape, from the graph as it stands.
  Graph graph = buildForwardGraph(spec);
  std::map<std::string, TensorType> outputOf;
  for (const Layer &layer : graph.layers)
    outputOf[layer.name] = layer.output;

  // 2. Split the chain into units: a dense or conv2d layer and the layers
  //    that ride along with it; anything else is a unit of its own.
  struct Unit {
    size_t first, last; // indices into spec.layers
    bool preservesShape;
  };
  std::vector<Unit> units;
  TensorType input = graph.type(graph.input);
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    bool opensUnit = spec.layers[i].op == "dense" ||
                     spec.layers[i].op == "conv2d" || units.empty() ||
                     !followsItsLayer(spec.layers[i]);
    if (opensUnit)
      units.push_back({i, i, false});
    units.back().last = i;
  }
  for (Unit &unit : units) {
    const LayerSpec &head = spec.layers[unit.first];
    TensorType out = outputOf.at(spec.layers[unit.last].name);
    unit.preservesShape =
        (head.op == "dense" || head.op == "conv2d") && out == input;
    input = out;
  }

  // 3. Wrap each full run of `runLength` shape-preserving units.
  std::vector<LayerSpec> rewritten;
  bool changed = false;
  for (size_t u = 0; u < units.size();) {
    size_t run = 0;
    while (u + run < units.size() && run < size_t(runLength) &&
           units[u + run].preservesShape)
      ++run;

    if (run == size_t(runLength)) {
      LayerSpec block;
      block.op = "residual";
      block.name = spec.layers[units[u].first].name + ".res";
      block.loc = spec.layers[units[u].first].loc;
      for (size_t i = units[u].first; i <= units[u + run - 1].last; ++i)
        block.nested.push_back(spec.layers[i]);
      rewritten.push_back(std::move(block));
      changed = true;
      u += run;
      continue;
    }

    for (size_t i = units[u].first; i <= units[u].last; ++i)
      rewritten.push_back(spec.layers[i]);
    ++u;
  }
  spec.layers = std::move(rewritten);
  return changed;
}

} // namespace gradc
