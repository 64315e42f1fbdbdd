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

// Sizes are checked precisely against the memory limits later; this only
// keeps single numbers within a range where arithmetic cannot overflow.
constexpr int64_t MaxDimension = int64_t(1) << 31;

const std::vector<std::string> ImplementedOps = {"dense", "flatten", "relu",
                                                 "sigmoid", "tanh"};
const std::vector<std::string> PlannedOps = {
    "conv2d",    "maxpool2d", "avgpool2d",  "dropout", "batchnorm",
    "layernorm", "leaky_relu", "elu",       "gelu",    "softplus",
    "softmax",   "rnn",       "lstm",       "embedding", "residual"};
const std::vector<std::string> Activations = {"relu", "sigmoid", "tanh"};

class ModelParser {
public:
  ModelParser(std::string file) : file(std::move(file)) {}

  ModelSpec parse(const YAML::Node &root);

private:
  void parseInput(const YamlMap &top, ModelSpec &model);
  void parseLayers(const YAML::Node &layers, ModelSpec &model);
  LayerSpec parseLayer(const YAML::Node &node, size_t index);
  InitSpec parseInit(const YAML::Node &node);
  void parseLoss(const YamlMap &top, ModelSpec &model);
  void parseOptimizer(const YAML::Node &node, ModelSpec &model);
  void parseTrain(const YAML::Node &node, ModelSpec &model);
  void parseData(const YAML::Node &node, ModelSpec &model);
  SplitSpec parseSplit(const YAML::Node &node, const std::string &what);
  std::string parseDataPath(const YamlMap &map, const std::string &key);
  void parsePasses(const YAML::Node &node);
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
  if (top.has("graph"))
    userError(top.loc("graph"),
              "the 'graph:' form is not supported yet; write the model "
              "as a chain of 'layers:'");
  parseLayers(top.require("layers"), model);
  if (top.has("output"))
    userError(top.loc("output"), "'output' belongs to the 'graph:' form, "
                                 "which is not supported yet");
  parseLoss(top, model);
  parseOptimizer(top.require("optimizer"), model);
  if (top.has("train"))
    parseTrain(top.get("train"), model);
  if (top.has("data"))
    parseData(top.get("data"), model);
  if (top.has("passes"))
    parsePasses(top.get("passes"));
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
    LayerSpec layer = parseLayer(layers[i], i);
    if (!names.insert(layer.name).second)
      userError(layer.loc, "two layers are named '" + layer.name + "'",
                "every layer needs a name of its own");
    model.layers.push_back(std::move(layer));
  }
}

LayerSpec ModelParser::parseLayer(const YAML::Node &node, size_t index) {
  LayerSpec layer;
  layer.loc = locationOf(file, node);
  if (!node.IsMap() || !node["op"])
    userError(layer.loc, "layer " + std::to_string(index) +
                             " must be a mapping with an 'op', such as "
                             "{op: dense, units: 128}");

  layer.op = asString(file, node["op"], "op");
  SourceLoc opLoc = locationOf(file, node["op"]);
  if (std::find(PlannedOps.begin(), PlannedOps.end(), layer.op) !=
      PlannedOps.end())
    userError(opLoc, "op '" + layer.op + "' is not supported yet",
              "supported ops: dense, flatten, relu, sigmoid, tanh");
  if (std::find(ImplementedOps.begin(), ImplementedOps.end(), layer.op) ==
      ImplementedOps.end()) {
    std::string suggestion = closestWord(layer.op, ImplementedOps);
    userError(opLoc, "unknown op '" + layer.op + "'",
              suggestion.empty()
                  ? "supported ops: dense, flatten, relu, sigmoid, tanh"
                  : "did you mean '" + suggestion + "'?");
  }

  std::vector<std::string> keys = {"op", "name"};
  if (layer.op == "dense")
    keys.insert(keys.end(), {"units", "bias", "activation", "init"});
  std::string what = "layer " + std::to_string(index) + " (" + layer.op + ")";
  YamlMap map(file, node, what, keys);

  layer.name = map.has("name") ? parseName(map.get("name"), "name")
                               : "layer" + std::to_string(index);
  if (layer.op != "dense")
    return layer;

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
      userError(layer.activationLoc,
                "unknown activation '" + layer.activation + "'",
                suggestion.empty() ? "activations: relu, sigmoid, tanh, none"
                                   : "did you mean '" + suggestion + "'?");
    }
  }
  return layer;
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
      return {InitKind::Normal, asDouble(file, map.get("normal"), "normal",
                                         0, 1e6)};
    if (map.has("uniform"))
      return {InitKind::Uniform, asDouble(file, map.get("uniform"),
                                          "uniform", 0, 1e6)};
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
    userError(model.lossLoc, "loss 'bce_with_logits' is not supported yet");
  else {
    std::string suggestion =
        closestWord(loss, {"softmax_cross_entropy", "mse", "bce_with_logits"});
    userError(model.lossLoc, "unknown loss '" + loss + "'",
              suggestion.empty() ? "losses: softmax_cross_entropy, mse"
                                 : "did you mean '" + suggestion + "'?");
  }
}

void ModelParser::parseOptimizer(const YAML::Node &node, ModelSpec &model) {
  YamlMap map(file, node, "optimizer",
              {"type", "lr", "momentum", "nesterov", "weight_decay", "beta1",
               "beta2", "eps"});
  std::string type = asString(file, map.require("type"), "type");
  if (type == "adam" || type == "adamw")
    userError(map.loc("type"), "optimizer '" + type + "' is not supported "
                                                      "yet",
              "use {type: sgd, lr: 0.05, momentum: 0.9}");
  if (type != "sgd")
    userError(map.loc("type"), "unknown optimizer '" + type + "'",
              "optimizers: sgd");
  for (const char *key : {"beta1", "beta2", "eps"})
    if (map.has(key))
      userError(map.loc(key), std::string("'") + key +
                                  "' belongs to adam, not sgd");

  OptimizerSpec &opt = model.optimizer;
  opt.lr = asDouble(file, map.require("lr"), "lr", 0, 1e6);
  opt.momentum = map.getDouble("momentum", 0, 0, 1);
  opt.nesterov = map.getBool("nesterov", false);
  opt.weightDecay = map.getDouble("weight_decay", 0, 0, 1e6);
  if (opt.nesterov && opt.momentum == 0)
    userError(map.loc("nesterov"), "nesterov needs a momentum above 0");
}

void ModelParser::parseTrain(const YAML::Node &node, ModelSpec &model) {
  YamlMap map(file, node, "train",
              {"batch", "epochs", "seed", "shuffle", "schedule"});
  if (map.has("schedule"))
    userError(map.loc("schedule"),
              "learning-rate schedules are not supported yet");
  model.batchLoc = map.loc("batch");
  model.train.batch = map.getInt("batch", 32, 1, 1 << 20);
  model.train.epochs = map.getInt("epochs", 1, 1, 1000000);
  model.train.seed = static_cast<uint64_t>(
      map.getInt("seed", 0, 0, std::numeric_limits<int64_t>::max()));
  model.train.shuffle = map.getBool("shuffle", true);
}

void ModelParser::parseData(const YAML::Node &node, ModelSpec &model) {
  YamlMap map(file, node, "data", {"train", "test", "scale", "normalize"});
  if (map.has("train"))
    model.data.train = parseSplit(map.get("train"), "data.train");
  if (map.has("test"))
    model.data.test = parseSplit(map.get("test"), "data.test");
  model.data.scale = map.getDouble("scale", 1, -1e30, 1e30);

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
  YamlMap map(file, node, what, {"images", "labels", "x", "y", "csv",
                                 "label"});
  for (const char *key : {"x", "y", "csv", "label"})
    if (map.has(key))
      userError(map.loc(key), std::string("'") + key +
                                  "' data is not supported yet; use IDX "
                                  "files as {images, labels}");

  SplitSpec split;
  split.images = parseDataPath(map, "images");
  split.labels = parseDataPath(map, "labels");
  return split;
}

std::string ModelParser::parseDataPath(const YamlMap &map,
                                       const std::string &key) {
  std::string given = asString(file, map.require(key), key);
  fs::path path(given);
  if (path.is_relative())
    path = fs::absolute(fs::path(file).parent_path() / path);

  std::error_code error;
  if (!fs::is_regular_file(path, error))
    userError(map.loc(key), "data file '" + given + "' does not exist",
              fs::path(given).is_relative()
                  ? "relative paths are relative to the model file, so "
                    "this is " + path.lexically_normal().string()
                  : "");
  return path.lexically_normal().string();
}

void ModelParser::parsePasses(const YAML::Node &node) {
  YamlMap map(file, node, "passes", {"batchnorm", "residual", "clip"});
  if (map.getBool("batchnorm", false))
    userError(map.loc("batchnorm"),
              "the batchnorm pass is not supported yet");
  if (map.has("residual")) {
    YAML::Node residual = map.get("residual");
    if (!residual.IsScalar() || residual.Scalar() != "false")
      userError(map.loc("residual"),
                "the residual pass is not supported yet");
  }
  if (map.has("clip"))
    userError(map.loc("clip"), "gradient clipping is not supported yet");
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
  model.log.vanishingBelow =
      map.getDouble("vanishing_below", 1e-6, 0, 1e30);
  model.log.explodingAbove =
      map.getDouble("exploding_above", 1e3, 0, 1e300);
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
      ++line;
      column = 0;
      inLineStart = true;
      inComment = false;
      lineStartWidth = 0;
      previous = ' ';
      continue;
    }
    if (inComment)
      continue;
    if (inLineStart) {
      if (c == ' ' || c == '-') {
        if (++lineStartWidth > 2 * MaxNesting * 4)
          userError(SourceLoc{file, line, column},
                    "the YAML nests too deeply");
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
