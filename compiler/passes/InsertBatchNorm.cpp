//===- InsertBatchNorm.cpp - The batchnorm mitigation pass ----------------===//
//
// Layers nested in residual blocks are rewritten too, in the order the
// graph builder visits them, so "the last dense or conv2d layer" means the
// one nearest the output. The BatchNorm takes over the layer's activation,
// so the order is layer, normalization, activation, as in the original
// paper and in PyTorch's usual blocks.
//
//===----------------------------------------------------------------------===//
#include "passes/InsertBatchNorm.h"

namespace gradc {

static bool isNormalized(const LayerSpec &layer) {
  return layer.op == "dense" || layer.op == "conv2d";
}

static int countNormalized(const std::vector<LayerSpec> &layers) {
  int count = 0;
  for (const LayerSpec &layer : layers)
    count += isNormalized(layer) + countNormalized(layer.nested);
  return count;
}

// Rewrites `layers` in place; `remaining` counts the dense and conv2d
// layers not yet visited, so the last one is recognised.
static void rewrite(std::vector<LayerSpec> &layers, int &remaining) {
  for (size_t i = 0; i < layers.size(); ++i) {
    rewrite(layers[i].nested, remaining);
    if (!isNormalized(layers[i]) || --remaining == 0)
      continue;

    LayerSpec norm;
    norm.op = "batchnorm";
    norm.name = layers[i].name + ".bn";
    norm.loc = layers[i].loc;
    norm.activation = layers[i].activation;
    norm.activationLoc = layers[i].activationLoc;
    norm.alpha = layers[i].alpha;
    layers[i].activation.clear();
    layers[i].bias = false;
    layers.insert(layers.begin() + static_cast<long>(i) + 1, norm);
    ++i;
  }
}

bool insertBatchNorm(ModelSpec &spec) {
  if (!spec.passes.batchnorm)
    return false;
  if (spec.isGraph)
    userError(!spec.passes.batchnormLoc.file.empty() ? spec.passes.batchnormLoc
                                                     : spec.nameLoc,
              "the batchnorm pass rewrites a chain of 'layers'",
              "in a 'graph:' model, add batchnorm nodes where they belong");

  int remaining = countNormalized(spec.layers);
  if (remaining < 2)
    return false;
  rewrite(spec.layers, remaining);
  return true;
}

} // namespace gradc
