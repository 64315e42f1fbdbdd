//===- Parser.cpp - Model file to ModelSpec -------------------------------===//
//
// The schema of the model file, section by section. Each section is read
// through a YamlMap that knows its keys, so unknown keys, wrong types and
// missing fields are caught where they are written. Checks that need the
// whole model (shapes, sizes) happen later, in the graph builder, which
// still has the locations kept here.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"

#include "frontend/ClipSection.h"
#include "frontend/TrainingSections.h"
#include "frontend/YamlReader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace gradc {

namespace fs = std::filesystem;

namespace {

// A model file is a page of YAML. Anything much larger is a mistake, and
// refusing it early keeps the parser's memory and time bounded.
constexpr size_t MaxFileBytes = 1 << 20;

// yaml-cpp parses nested collections recursively, so a hostile file of
// many nested brackets or dashes could exhaust the stack.
constexpr int MaxNesting = 64;

// The generated training step is one function, and the C++ compiler's
// time grows faster than linearly with its size: 1000 layers compile in
// about a minute. Deeper models are refused rather than left to compile
// for hours.
constexpr size_t MaxLayers = 1000;

// Sizes are checked precisely against the memory limits later; this only
// keeps single numbers within a range where arithmetic cannot overflow.
constexpr int64_t MaxDimension = int64_t(1) << 31;

// The largest vocabulary whose ids are all exact in a float32 input.
constexpr int64_t MaxEmbeddingVocab = int64_t(1) << 24;

const std::vector<std::string> ImplementedOps = {
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
const std::vector<std::string> Activations = {"relu",       "sigmoid", "tanh",
                                              "leaky_relu", "elu",     "gelu",
                                              "softplus",   "softmax"};

// "a, b, c", as a hint lists the words a field accepts.
std::string listed(const std::vector<std::string> &words) {
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
  size_t layerCount = 0; // nested ones included
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

} // namespace

bool isValidName(const std::string &name) {
  if (name.empty() || name.size() > 64)
    return false;
  if (!std::isalpha(static_cast<unsigned char>(name[0])) && name[0] != '_')
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string ModelParser::parseName(const YAML::Node &node,
                                   const std::string &field) {
  std::string name = asString(file, node, field);
  if (!isValidName(name))
    userError(locationOf(file, node), "invalid name '" + name + "'",
              "names start with a letter or '_', continue with letters, "
              "digits, '_' or '-', and have at most 64 characters");
  return name;
}

ModelSpec ModelParser::parse(const YAML::Node &root) {
  if (!root.IsMap())
    userError(SourceLoc{file, 1, 1},
              "a model file must be a mapping with 'model', 'input', "
              "'layers' and 'loss'");
  YamlMap top(file, root, "the model file",
              {"model", "input", "layers", "graph", "output", "loss",
               "optimizer", "train", "data", "passes", "log"});

  ModelSpec model;
  model.file = file;
  model.name = parseName(top.require("model"), "model");
  model.nameLoc = top.loc("model");

  parseInput(top, model);
  if (top.has("graph")) {
    if (top.has("layers"))
      userError(top.loc("layers"), "a model has 'layers' or 'graph', not "
                                   "both");
    parseGraph(top.get("graph"), model);
    model.output = asString(file, top.require("output"), "output");
    model.outputLoc = top.loc("output");
  } else {
    parseLayers(top.require("layers"), model);
    if (top.has("output"))
      userError(top.loc("output"), "'output' belongs to the 'graph:' form",
                "a chain of 'layers' ends in its last layer");
  }
  parseLoss(top, model);
  parseOptimizer(top.require("optimizer"), model);
  if (top.has("train"))
    parseTrain(top.get("train"), model);
  if (top.has("data"))
    parseData(top.get("data"), model);
  if (top.has("passes"))
    parsePasses(top.get("passes"), model);
  if (top.has("log"))
    parseLog(top.get("log"), model);
  return model;
}

void ModelParser::parseInput(const YamlMap &top, ModelSpec &model) {
  YAML::Node input = top.require("input");
  model.inputLoc = locationOf(file, input);
  if (!input.IsSequence() || input.size() == 0 || input.size() > 3)
    userError(model.inputLoc,
              "'input' must be the shape of one sample, a list of 1 to 3 "
              "sizes such as [784] or [1, 28, 28]");
  for (const YAML::Node &size : input)
    model.input.push_back(asInt(file, size, "input", 1, MaxDimension));
}

void ModelParser::parseLayers(const YAML::Node &layers, ModelSpec &model) {
  if (!layers.IsSequence() || layers.size() == 0)
    userError(locationOf(file, layers), "'layers' must be a non-empty list");

  std::set<std::string> names;
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerSpec layer = parseLayer(layers[i], i, "layer" + std::to_string(i));
    checkUniqueNames(layer, names);
    model.layers.push_back(std::move(layer));
  }
}

// Layers nested in residual blocks share one namespace with the rest,
// since their parameters are named after them.
void ModelParser::checkUniqueNames(const LayerSpec &layer,
                                   std::set<std::string> &names) {
  if (!names.insert(layer.name).second)
    userError(layer.loc, "two layers are named '" + layer.name + "'",
              "every layer needs a name of its own");
  for (const LayerSpec &inner : layer.nested)
    checkUniqueNames(inner, names);
}

void ModelParser::parseGraph(const YAML::Node &nodes, ModelSpec &model) {
  if (!nodes.IsSequence() || nodes.size() == 0)
    userError(locationOf(file, nodes), "'graph' must be a non-empty list");

  model.isGraph = true;
  inGraph = true;
  std::set<std::string> names = {"input"};
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].IsMap() && !nodes[i]["name"])
      userError(locationOf(file, nodes[i]),
                "graph node " + std::to_string(i) + " needs a 'name'",
                "other nodes refer to it by name");
    LayerSpec node = parseLayer(nodes[i], i, "");
    if (node.name == "input")
      userError(node.loc, "'input' names the model input; give this node "
                          "another name");
    checkUniqueNames(node, names);
    model.layers.push_back(std::move(node));
  }
  inGraph = false;
}

// A layer op reads one `input`; add, mul and concat read a list `inputs`.
void ModelParser::parseNodeInputs(const YamlMap &map, LayerSpec &layer) {
  bool combines = layer.op == "add" || layer.op == "mul" ||
                  layer.op == "concat";
  const char *key = combines ? "inputs" : "input";
  YAML::Node given = map.require(key);

  if (!combines) {
    layer.inputs.push_back(asString(file, given, key));
    layer.inputLocs.push_back(locationOf(file, given));
    return;
  }
  if (!given.IsSequence() || given.size() < 2)
    userError(locationOf(file, given),
              "'" + layer.op + "' needs a list of at least two 'inputs'");
  if (layer.op != "concat" && given.size() != 2)
    userError(locationOf(file, given),
              "'" + layer.op + "' takes exactly two 'inputs'");
  for (const YAML::Node &input : given) {
    layer.inputs.push_back(asString(file, input, key));
    layer.inputLocs.push_back(locationOf(file, input));
  }
}

// {op: residual, layers: [...]}: the nested layers are named
// <parent>.<j> unless they are given names, as PyTorch names the members
// of a Sequential.
void ModelParser::parseResidual(const YamlMap &map, LayerSpec &layer) {
  YAML::Node nested = map.require("layers");
  if (!nested.IsSequence() || nested.size() == 0)
    userError(map.loc("layers"),
              "a residual block's 'layers' must be a non-empty list");
  // Nested layers form a chain even inside a `graph:` node.
  bool graphNode = inGraph;
  inGraph = false;
  for (size_t j = 0; j < nested.size(); ++j)
    layer.nested.push_back(
        parseLayer(nested[j], j, layer.name + "." + std::to_string(j)));
  inGraph = graphNode;
}

LayerSpec ModelParser::parseLayer(const YAML::Node &node, size_t index,
                                  const std::string &defaultName) {
  LayerSpec layer;
  layer.loc = locationOf(file, node);
  if (++layerCount > MaxLayers)
    userError(layer.loc, "the model has more than " +
                             std::to_string(MaxLayers) + " layers",
              "gradc compiles each training step as one function, which "
              "takes too long beyond that");
  if (!node.IsMap() || !node["op"])
    userError(layer.loc, "layer " + std::to_string(index) +
                             " must be a mapping with an 'op', such as "
                             "{op: dense, units: 128}");

  layer.op = asString(file, node["op"], "op");
  SourceLoc opLoc = locationOf(file, node["op"]);
  if (std::find(ImplementedOps.begin(), ImplementedOps.end(), layer.op) ==
      ImplementedOps.end()) {
    std::string suggestion = closestWord(layer.op, ImplementedOps);
    userError(opLoc, "unknown op '" + layer.op + "'",
              suggestion.empty() ? "supported ops: " + listed(ImplementedOps)
                                 : "did you mean '" + suggestion + "'?");
  }

  std::vector<std::string> keys = {"op", "name"};
  if (layer.op == "dense")
    keys.insert(keys.end(), {"units", "bias", "activation", "alpha", "init"});
  if (layer.op == "leaky_relu" || layer.op == "elu")
    keys.push_back("alpha");
  if (layer.op == "dropout")
    keys.push_back("rate");
  if (layer.op == "layernorm")
    keys.push_back("eps");
  if (layer.op == "batchnorm")
    keys.insert(keys.end(), {"momentum", "eps"});
  if (layer.op == "conv2d")
    keys.insert(keys.end(), {"filters", "kernel", "stride", "padding", "bias",
                             "activation", "alpha", "init"});
  if (layer.op == "maxpool2d" || layer.op == "avgpool2d")
    keys.insert(keys.end(), {"size", "stride"});
  if (layer.op == "rnn")
    keys.insert(keys.end(), {"hidden", "activation", "return"});
  if (layer.op == "lstm")
    keys.insert(keys.end(), {"hidden", "return"});
  if (layer.op == "embedding")
    keys.insert(keys.end(), {"vocab", "dim", "init"});
  if (layer.op == "residual")
    keys.push_back("layers");
  bool combines = layer.op == "add" || layer.op == "mul" ||
                  layer.op == "concat";
  if (combines && !inGraph)
    userError(opLoc, "'" + layer.op + "' combines named nodes, so it "
                     "belongs to the 'graph:' form");
  if (inGraph)
    keys.push_back(combines ? "inputs" : "input");
  if (layer.op == "concat")
    keys.push_back("axis");
  std::string what = "layer " + std::to_string(index) + " (" + layer.op + ")";
  YamlMap map(file, node, what, keys);

  layer.name =
      map.has("name") ? parseName(map.get("name"), "name") : defaultName;
  if (inGraph)
    parseNodeInputs(map, layer);
  if (layer.op == "concat")
    layer.axis = map.getInt("axis", -1, -4, 3);
  if (layer.op == "add" || layer.op == "mul" || layer.op == "concat")
    return layer;
  if (layer.op == "residual") {
    parseResidual(map, layer);
    return layer;
  }
  if (layer.op == "batchnorm") {
    layer.momentum = map.getDouble("momentum", 0.1, 0, 1);
    layer.eps = map.getDouble("eps", 1e-5, 1e-30, 1);
    return layer;
  }
  if (layer.op == "leaky_relu" || layer.op == "elu" || layer.op == "dropout" ||
      layer.op == "layernorm") {
    parseElementwiseFamily(map, layer);
    return layer;
  }
  if (layer.op == "rnn" || layer.op == "lstm" || layer.op == "embedding") {
    parseSequenceFamily(map, layer);
    return layer;
  }
  if (layer.op == "conv2d" || layer.op == "maxpool2d" ||
      layer.op == "avgpool2d")
    parseConvFamily(map, layer);
  if (layer.op != "dense" && layer.op != "conv2d")
    return layer;

  if (layer.op == "dense")
    layer.units = asInt(file, map.require("units"), "units", 1, MaxDimension);
  layer.bias = map.getBool("bias", true);
  if (map.has("init"))
    layer.init = parseInit(map.get("init"));
  if (map.has("activation")) {
    layer.activation = asString(file, map.get("activation"), "activation");
    layer.activationLoc = map.loc("activation");
    if (layer.activation == "none")
      layer.activation.clear();
    else if (std::find(Activations.begin(), Activations.end(),
                       layer.activation) == Activations.end()) {
      std::string suggestion = closestWord(layer.activation, Activations);
      userError(
          layer.activationLoc, "unknown activation '" + layer.activation + "'",
          suggestion.empty() ? "activations: " + listed(Activations) + ", none"
                             : "did you mean '" + suggestion + "'?");
    }
  }
  layer.alpha = parseAlpha(map, layer.activation);
  return layer;
}

// The fields of leaky_relu, elu, dropout and layernorm layers, with
// PyTorch's defaults where it has one. Dropout has no default rate: a
// user who adds dropout has a rate in mind.
void ModelParser::parseElementwiseFamily(const YamlMap &map, LayerSpec &layer) {
  if (layer.op == "leaky_relu" || layer.op == "elu")
    layer.alpha = parseAlpha(map, layer.op);

  if (layer.op == "dropout") {
    YAML::Node rate = map.require("rate");
    layer.rate = asDouble(file, rate, "rate", -1e30, 1e30);
    if (layer.rate < 0 || layer.rate >= 1)
      userError(map.loc("rate"),
                "dropout 'rate' is " + rate.Scalar() +
                    ", but it must be at least 0 and below 1",
                "the rate is the probability of zeroing an element; at 1 "
                "nothing would pass");
  }

  if (layer.op == "layernorm") {
    layer.eps = map.getDouble("eps", 1e-5, -1e30, 1e30);
    if (layer.eps <= 0)
      userError(map.loc("eps"),
                "'eps' is " + map.get("eps").Scalar() +
                    ", but it must be positive",
                "eps keeps the division by the standard deviation finite; "
                "PyTorch's default is 1e-5");
  }
}

// alpha is the slope of leaky_relu and the scale of elu, whether the
// activation is a layer of its own or a dense layer's `activation:`, as in
// {op: dense, units: 64, activation: leaky_relu, alpha: 0.2}. Without it,
// PyTorch's defaults apply: 0.01 for leaky_relu, 1 for elu. Other
// activations have no alpha, and one given to them is refused rather than
// ignored.
double ModelParser::parseAlpha(const YamlMap &map,
                               const std::string &activation) {
  if (activation == "leaky_relu")
    return map.getDouble("alpha", 0.01, -1e6, 1e6);
  if (activation == "elu")
    return map.getDouble("alpha", 1.0, -1e6, 1e6);
  if (map.has("alpha"))
    userError(
        map.loc("alpha"),
        "'alpha' belongs to a leaky_relu or elu activation, but this "
        "layer's activation is " +
            (activation.empty() ? std::string("none") : "'" + activation + "'"),
        "remove 'alpha', or use activation: leaky_relu or elu");
  return 0;
}

// The window of conv2d, maxpool2d and avgpool2d layers. Whether it fits
// the input is the graph builder's to check, since only it knows shapes.
void ModelParser::parseConvFamily(const YamlMap &map, LayerSpec &layer) {
  bool conv = layer.op == "conv2d";
  const std::string window = conv ? "kernel" : "size";
  if (conv)
    layer.filters =
        asInt(file, map.require("filters"), "filters", 1, MaxDimension);
  layer.kernel = asInt(file, map.require(window), window, 1, MaxDimension);
  layer.kernelLoc = map.loc(window);
  // A pool's windows tile the input unless told otherwise, as PyTorch's.
  layer.stride = map.getInt("stride", conv ? 1 : layer.kernel, 1, MaxDimension);
  if (conv && map.has("padding"))
    parsePadding(map.get("padding"), layer);
}

// `valid`, `same`, or the number of zero rows and columns on every side.
void ModelParser::parsePadding(const YAML::Node &node, LayerSpec &layer) {
  const char *hint = "padding is valid, same, or the number of zeros to "
                     "add on every side, 0 or more";
  SourceLoc loc = locationOf(file, node);
  if (!node.IsScalar())
    userError(loc, "'padding' must be valid, same or a number", hint);

  std::string text = node.Scalar();
  if (text == "valid")
    return;
  if (text == "same") {
    layer.padding = PaddingKind::Same;
    return;
  }
  if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) ||
                        text[0] == '-' || text[0] == '+' || text[0] == '.')) {
    int64_t size = asInt(file, node, "padding", -MaxDimension, MaxDimension);
    if (size < 0)
      userError(loc, "padding " + text + " is negative", hint);
    layer.padding = PaddingKind::Explicit;
    layer.paddingSize = size;
    return;
  }
  std::string suggestion = closestWord(text, {"valid", "same"});
  userError(loc, "unknown padding '" + text + "'",
            suggestion.empty() ? hint : "did you mean '" + suggestion + "'?");
}

// The fields of rnn, lstm and embedding layers. An rnn's `activation:` is
// its recurrence's nonlinearity, as torch.nn.RNN's `nonlinearity`, not an
// activation layer after it, so it takes only what PyTorch offers.
void ModelParser::parseSequenceFamily(const YamlMap &map, LayerSpec &layer) {
  if (layer.op == "embedding") {
    layer.vocab = asInt(file, map.require("vocab"), "vocab", 1,
                        std::numeric_limits<int64_t>::max());
    // Ids reach the model as the floats of its input, exact only up to
    // 2^24; beyond that, neighbouring ids would merge.
    if (layer.vocab > MaxEmbeddingVocab)
      userError(map.loc("vocab"),
                "'vocab' is " + std::to_string(layer.vocab) +
                    ", but ids travel as float32 values, which are exact "
                    "integers only up to 2^24 = 16777216",
                "use a vocabulary of at most 16777216 ids");
    layer.dim = asInt(file, map.require("dim"), "dim", 1, MaxDimension);
    if (map.has("init"))
      layer.init = parseInit(map.get("init"));
    return;
  }

  layer.hidden = asInt(file, map.require("hidden"), "hidden", 1, MaxDimension);
  if (map.has("activation")) {
    static const std::vector<std::string> Recurrences = {"tanh", "relu"};
    layer.recurrence = asString(file, map.get("activation"), "activation");
    if (std::find(Recurrences.begin(), Recurrences.end(), layer.recurrence) ==
        Recurrences.end()) {
      std::string suggestion = closestWord(layer.recurrence, Recurrences);
      userError(map.loc("activation"),
                "unknown rnn activation '" + layer.recurrence + "'",
                suggestion.empty() ? "an rnn's activation is its recurrence's "
                                     "nonlinearity: tanh or relu"
                                   : "did you mean '" + suggestion + "'?");
    }
  }
  if (map.has("return")) {
    static const std::vector<std::string> Returns = {"last", "sequence"};
    std::string word = asString(file, map.get("return"), "return");
    if (std::find(Returns.begin(), Returns.end(), word) == Returns.end()) {
      std::string suggestion = closestWord(word, Returns);
      userError(map.loc("return"), "unknown return '" + word + "'",
                suggestion.empty()
                    ? "return is last (the final hidden state, [hidden]) "
                      "or sequence (every step's, [steps, hidden])"
                    : "did you mean '" + suggestion + "'?");
    }
    layer.returnSequence = word == "sequence";
  }
}

InitSpec ModelParser::parseInit(const YAML::Node &node) {
  static const std::vector<std::pair<std::string, InitKind>> Named = {
      {"default", InitKind::Default},
      {"he_uniform", InitKind::HeUniform},
      {"he_normal", InitKind::HeNormal},
      {"xavier_uniform", InitKind::XavierUniform},
      {"xavier_normal", InitKind::XavierNormal},
      {"zeros", InitKind::Zeros}};

  if (node.IsMap()) {
    YamlMap map(file, node, "init", {"normal", "uniform"});
    if (map.has("normal"))
      return {InitKind::Normal,
              asDouble(file, map.get("normal"), "normal", 0, 1e6)};
    if (map.has("uniform"))
      return {InitKind::Uniform,
              asDouble(file, map.get("uniform"), "uniform", 0, 1e6)};
    userError(map.loc(), "init needs 'normal: STD' or 'uniform: LIMIT'");
  }

  std::string name = asString(file, node, "init");
  std::vector<std::string> known;
  for (const auto &[word, kind] : Named) {
    if (word == name)
      return {kind, 0};
    known.push_back(word);
  }
  known.insert(known.end(), {"{normal: STD}", "{uniform: LIMIT}"});
  std::string suggestion = closestWord(name, known);
  userError(locationOf(file, node), "unknown init '" + name + "'",
            suggestion.empty() ? "known: default, he_uniform, he_normal, "
                                 "xavier_uniform, xavier_normal, zeros, "
                                 "{normal: STD}, {uniform: LIMIT}"
                               : "did you mean '" + suggestion + "'?");
}

void ModelParser::parseLoss(const YamlMap &top, ModelSpec &model) {
  YAML::Node node = top.require("loss");
  model.lossLoc = locationOf(file, node);
  std::string loss = asString(file, node, "loss");
  if (loss == "softmax_cross_entropy")
    model.loss = LossKind::SoftmaxCrossEntropy;
  else if (loss == "mse")
    model.loss = LossKind::MeanSquaredError;
  else if (loss == "bce_with_logits")
    model.loss = LossKind::BceWithLogits;
  else {
    std::string suggestion =
        closestWord(loss, {"softmax_cross_entropy", "mse", "bce_with_logits"});
    userError(model.lossLoc, "unknown loss '" + loss + "'",
              suggestion.empty()
                  ? "losses: softmax_cross_entropy, mse, bce_with_logits"
                  : "did you mean '" + suggestion + "'?");
  }
}

void ModelParser::parseOptimizer(const YAML::Node &node, ModelSpec &model) {
  model.optimizer = parseOptimizerSection(file, node);
}

void ModelParser::parseTrain(const YAML::Node &node, ModelSpec &model) {
  YamlMap map(file, node, "train",
              {"batch", "epochs", "seed", "shuffle", "schedule"});
  if (map.has("schedule"))
    model.train.schedule = parseScheduleSection(file, map.get("schedule"));
  model.batchLoc = map.loc("batch");
  model.train.batch = map.getInt("batch", 32, 1, 1 << 20);
  model.train.epochs = map.getInt("epochs", 1, 1, 1000000);
  model.train.seed = static_cast<uint64_t>(
      map.getInt("seed", 0, 0, std::numeric_limits<int64_t>::max()));
  model.train.shuffle = map.getBool("shuffle", true);
}

void ModelParser::parseData(const YAML::Node &node, ModelSpec &model) {
  YamlMap map(file, node, "data",
              {"train", "test", "scale", "normalize", "targets"});
  if (map.has("train"))
    model.data.train = parseSplit(map.get("train"), "data.train");
  if (map.has("test"))
    model.data.test = parseSplit(map.get("test"), "data.test");
  model.data.scale = map.getDouble("scale", 1, -1e30, 1e30);

  // An autoencoder learns to give back its input: `targets: inputs`.
  if (map.has("targets")) {
    std::string targets = asString(file, map.get("targets"), "targets");
    model.data.targetsLoc = map.loc("targets");
    if (targets != "inputs")
      userError(model.data.targetsLoc,
                "'targets' can only be 'inputs' (each sample is its own "
                "target), not '" + targets + "'",
                "without 'targets', the labels or y are the targets");
    model.data.targetsAreInputs = true;
  }

  if (map.has("normalize")) {
    YamlMap normalize(file, map.get("normalize"), "data.normalize",
                      {"mean", "std"});
    model.data.normalize = true;
    model.data.mean =
        asDouble(file, normalize.require("mean"), "mean", -1e30, 1e30);
    model.data.std =
        asDouble(file, normalize.require("std"), "std", 1e-30, 1e30);
  }
}

SplitSpec ModelParser::parseSplit(const YAML::Node &node,
                                  const std::string &what) {
  return parseSplitSection(file, node, what);
}

void ModelParser::parsePasses(const YAML::Node &node, ModelSpec &model) {
  YamlMap map(file, node, "passes",
              {"batchnorm", "residual", "clip", "skip_nonfinite"});
  model.passes.batchnorm = map.getBool("batchnorm", false);
  model.passes.batchnormLoc = map.loc("batchnorm");
  if (map.has("residual")) {
    // `residual: false`, or K: the layers per identity skip.
    YAML::Node residual = map.get("residual");
    model.passes.residualLoc = map.loc("residual");
    if (!(residual.IsScalar() && residual.Scalar() == "false"))
      model.passes.residual = asInt(file, residual, "residual", 1, 1000);
  }
  if (map.has("clip"))
    model.passes.clip = parseClipSection(file, map.get("clip"));
  model.passes.skipNonfinite = map.getBool("skip_nonfinite", false);
}

void ModelParser::parseLog(const YAML::Node &node, ModelSpec &model) {
  YamlMap map(file, node, "log",
              {"grad_norms", "vanishing_below", "exploding_above"});
  if (map.has("grad_norms")) {
    YamlMap norms(file, map.get("grad_norms"), "log.grad_norms",
                  {"every", "file"});
    model.log.gradEvery = norms.getInt("every", 50, 1, 1000000000);
    model.log.gradFile = norms.getString("file", "");
  }
  model.log.vanishingBelow = map.getDouble("vanishing_below", 1e-6, 0, 1e30);
  model.log.explodingAbove = map.getDouble("exploding_above", 1e3, 0, 1e300);
}

// Rejects text whose collections nest deeper than MaxNesting before
// yaml-cpp sees it. Flow collections nest with brackets; block collections
// nest with indentation and "- " markers, so the column where a line's
// content starts bounds their depth.
static void checkNesting(const std::string &file, const std::string &text) {
  int depth = 0, line = 1, column = 0;
  bool inLineStart = true, inComment = false;
  int lineStartWidth = 0;
  char quote = 0, previous = ' ';
  for (char c : text) {
    ++column;
    // A quote opens a quoted scalar only where a token can start, and a
    // '#' a comment only after a space; otherwise the apostrophe in
    // "# don't" or "bob's" would hide the rest of the file from the count.
    bool tokenStart = previous == ' ' || previous == '\t' || previous == '[' ||
                      previous == '{' || previous == ',' || previous == ':';
    previous = c;
    if (c == '\n') {
      // A quote also ends with its line: a plain scalar such as "a 'b" has
      // an apostrophe that opens nothing, and it must not hide the rest of
      // the file. A rare quoted scalar over several lines is then counted
      // as if unquoted, which can only refuse more, never less.
      ++line;
      column = 0;
      inLineStart = true;
      inComment = false;
      quote = 0;
      lineStartWidth = 0;
      previous = ' ';
      continue;
    }
    if (inComment)
      continue;
    if (inLineStart) {
      if (c == ' ' || c == '-') {
        if (++lineStartWidth > 2 * MaxNesting * 4)
          userError(SourceLoc{file, line, column}, "the YAML nests too deeply");
        continue;
      }
      inLineStart = false;
    }
    if (quote) {
      if (c == quote)
        quote = 0;
      continue;
    }
    if (c == '#' && tokenStart)
      inComment = true;
    else if ((c == '\'' || c == '"') && tokenStart)
      quote = c;
    else if (c == '[' || c == '{') {
      if (++depth > MaxNesting)
        userError(SourceLoc{file, line, column},
                  "the YAML nests more than " + std::to_string(MaxNesting) +
                      " levels deep");
    } else if ((c == ']' || c == '}') && depth > 0)
      --depth;
  }
}

// yaml-cpp reports a tab in the indentation as whatever it makes of the
// line, "illegal block entry" for instance, without naming the tab.
static bool indentedWithTab(const std::string &text, int line) {
  size_t start = 0;
  for (int i = 0; i < line; ++i) {
    start = text.find('\n', start);
    if (start == std::string::npos)
      return false;
    ++start;
  }
  size_t content = text.find_first_not_of(" \t", start);
  return text.find('\t', start) < content;
}

ModelSpec parseModel(const std::string &path, const std::string &text) {
  if (text.size() > MaxFileBytes)
    userError(SourceLoc{path}, "the model file is larger than 1 MiB");
  checkNesting(path, text);

  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception &error) {
    SourceLoc loc{path, error.mark.line + 1, error.mark.column + 1};
    if (error.mark.is_null())
      loc = SourceLoc{path};
    userError(loc, "malformed YAML: " + error.msg,
              !error.mark.is_null() && indentedWithTab(text, error.mark.line)
                  ? "YAML indents with spaces; this line is indented with "
                    "a tab"
                  : "");
  }
  return ModelParser(path).parse(root);
}

ModelSpec parseModelFile(const std::string &path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error))
    userError(SourceLoc{path}, "cannot open the model file",
              fs::exists(path, error) ? "it is not a regular file"
                                      : "no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    userError(SourceLoc{path}, "cannot read the model file");

  std::string text;
  text.resize(MaxFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return parseModel(path, text);
}

} // namespace gradc
