//===- ModelParser.h - The model-file parser, inside -----------*- C++ -*-===//
//
// The class behind parseModel(), shared by the files that define its
// parts: Parser.cpp (the file as a whole, training sections, passes) and
// LayerParser.cpp (layers, graph nodes and their fields), with the limits
// and word lists both use. Nothing outside compiler/frontend includes it.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_FRONTEND_MODELPARSER_H
#define GRADC_FRONTEND_MODELPARSER_H

#include "frontend/ModelSpec.h"
#include "frontend/YamlReader.h"

#include <set>
#include <string>
#include <vector>

namespace gradc::detail {

// The generated training step is one function, and the C++ compiler's
// time grows faster than linearly with its size: 1000 layers compile in
// about a minute. Deeper models are refused rather than left to compile
// for hours.
inline constexpr size_t MaxLayers = 1000;

// A concat's gradient gives each input a slice of its own, and the passes
// over the graph then take time and memory that grow with the square of
// the inputs: 4000 inputs took 1.3 GB and 6 s before any code was
// generated, and the trainer of 2000 did not compile in minutes. Each
// input counts as a layer against MaxLayers, and one concat takes at
// most MaxConcatInputs.
inline constexpr size_t MaxConcatInputs = 256;

// Sizes are checked precisely against the memory limits later; this only
// keeps single numbers within a range where arithmetic cannot overflow.
inline constexpr int64_t MaxDimension = int64_t(1) << 31;

// The largest vocabulary whose ids are all exact in a float32 input.
inline constexpr int64_t MaxEmbeddingVocab = int64_t(1) << 24;

inline const std::vector<std::string> ImplementedOps = {
    "dense", "flatten", "relu", "sigmoid", "tanh",
    // The elementwise, normalization and regularization family.
    "leaky_relu", "elu", "gelu", "softplus", "softmax", "dropout", "layernorm",
    // Batch normalization.
    "batchnorm",
    // The sequence family.
    "rnn", "lstm", "embedding",
    // The convolutional family.
    "conv2d", "maxpool2d", "avgpool2d",
    // Identity skips around a nested list of layers.
    "residual",
    // Nodes that combine others, in the graph: form.
    "add", "mul", "concat"};
inline const std::vector<std::string> Activations = {
    "relu", "sigmoid", "tanh",     "leaky_relu",
    "elu",  "gelu",    "softplus", "softmax"};

// "a, b, c", as a hint lists the words a field accepts.
inline std::string listed(const std::vector<std::string> &words) {
  std::string text;
  for (const std::string &word : words)
    text += (text.empty() ? "" : ", ") + word;
  return text;
}

class ModelParser {
public:
  ModelParser(std::string file) : file(std::move(file)) {}

  ModelSpec parse(const YAML::Node &root);

private:
  void parseInput(const YamlMap &top, ModelSpec &model);
  void parseLayers(const YAML::Node &layers, ModelSpec &model);
  // `defaultName` is the layer's name when the file gives none.
  LayerSpec parseLayer(const YAML::Node &node, size_t index,
                       const std::string &defaultName);
  void parseResidual(const YamlMap &map, LayerSpec &layer);
  void parseGraph(const YAML::Node &nodes, ModelSpec &model);
  void parseNodeInputs(const YamlMap &map, LayerSpec &layer);

  // While parsing `graph:`, nodes take 'input' or 'inputs' and may be
  // add, mul or concat.
  bool inGraph = false;
  size_t layerCount = 0; // nested ones and concats' inputs included
  void countLayers(size_t count, const SourceLoc &loc);
  void checkUniqueNames(const LayerSpec &layer, std::set<std::string> &names);
  void parseElementwiseFamily(const YamlMap &map, LayerSpec &layer);
  void parseConvFamily(const YamlMap &map, LayerSpec &layer);
  void parsePadding(const YAML::Node &node, LayerSpec &layer);
  void parseSequenceFamily(const YamlMap &map, LayerSpec &layer);
  double parseAlpha(const YamlMap &map, const std::string &activation);
  InitSpec parseInit(const YAML::Node &node);
  void parseLoss(const YamlMap &top, ModelSpec &model);
  void parseOptimizer(const YAML::Node &node, ModelSpec &model);
  void parseTrain(const YAML::Node &node, ModelSpec &model);
  void parseData(const YAML::Node &node, ModelSpec &model);
  SplitSpec parseSplit(const YAML::Node &node, const std::string &what);
  void parsePasses(const YAML::Node &node, ModelSpec &model);
  void parseLog(const YAML::Node &node, ModelSpec &model);
  std::string parseName(const YAML::Node &node, const std::string &field);

  std::string file;
};

} // namespace gradc::detail

#endif // GRADC_FRONTEND_MODELPARSER_H
