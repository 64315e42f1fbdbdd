//===- LayerParser.cpp - Layers and graph nodes of a model file -----------===//
//
// The `layers:` list, residual blocks nested in it, and the nodes of the
// `graph:` form: each layer's op, name and the fields its op accepts,
// checked where they are written. Shapes are checked later, by the graph
// builder, which keeps the locations recorded here.
//
//===----------------------------------------------------------------------===//
#include "frontend/ModelParser.h"

#include <algorithm>

namespace gradc::detail {

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
  bool combines =
      layer.op == "add" || layer.op == "mul" || layer.op == "concat";
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
  if (given.size() > MaxConcatInputs)
    userError(locationOf(file, given),
              "'concat' takes at most " + std::to_string(MaxConcatInputs) +
                  " 'inputs', not " + std::to_string(given.size()),
              "the compile time of its gradient grows with the square of "
              "its inputs; concatenate in stages instead");
  countLayers(given.size() - 1, locationOf(file, given));
  for (const YAML::Node &input : given) {
    layer.inputs.push_back(asString(file, input, key));
    layer.inputLocs.push_back(locationOf(file, input));
  }
}

// Counts `count` more layers against MaxLayers.
void ModelParser::countLayers(size_t count, const SourceLoc &loc) {
  layerCount += count;
  if (layerCount > MaxLayers)
    userError(loc,
              "the model has more than " + std::to_string(MaxLayers) +
                  " layers (a concat's inputs count as layers)",
              "gradc compiles each training step as one function, which "
              "takes too long beyond that");
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
  countLayers(1, layer.loc);
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
  bool combines =
      layer.op == "add" || layer.op == "mul" || layer.op == "concat";
  if (combines && !inGraph)
    userError(opLoc, "'" + layer.op +
                         "' combines named nodes, so it "
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
    if (map.has("normal") && map.has("uniform"))
      userError(map.loc("uniform"),
                "init takes 'normal' or 'uniform', not both");
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

} // namespace gradc::detail
