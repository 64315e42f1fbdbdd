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

#include "frontend/ModelParser.h"

#include "frontend/ClipSection.h"
#include "frontend/TrainingSections.h"
#include "frontend/YamlReader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace gradc {

namespace fs = std::filesystem;

namespace {

// A model file is a page of YAML. Anything much larger is a mistake, and
// refusing it early keeps the parser's memory and time bounded.
constexpr size_t MaxFileBytes = 1 << 20;

// yaml-cpp parses nested collections recursively, so a hostile file of
// many nested brackets or dashes could exhaust the stack.
constexpr int MaxNesting = 64;

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

std::string detail::ModelParser::parseName(const YAML::Node &node,
                                           const std::string &field) {
  std::string name = asString(file, node, field);
  if (!isValidName(name))
    userError(locationOf(file, node), "invalid name '" + name + "'",
              "names start with a letter or '_', continue with letters, "
              "digits, '_' or '-', and have at most 64 characters");
  return name;
}

ModelSpec detail::ModelParser::parse(const YAML::Node &root) {
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

void detail::ModelParser::parseInput(const YamlMap &top, ModelSpec &model) {
  YAML::Node input = top.require("input");
  model.inputLoc = locationOf(file, input);
  if (!input.IsSequence() || input.size() == 0 || input.size() > 3)
    userError(model.inputLoc,
              "'input' must be the shape of one sample, a list of 1 to 3 "
              "sizes such as [784] or [1, 28, 28]");
  for (const YAML::Node &size : input)
    model.input.push_back(asInt(file, size, "input", 1, MaxDimension));
}

void detail::ModelParser::parseLoss(const YamlMap &top, ModelSpec &model) {
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

void detail::ModelParser::parseOptimizer(const YAML::Node &node,
                                         ModelSpec &model) {
  model.optimizer = parseOptimizerSection(file, node);
}

void detail::ModelParser::parseTrain(const YAML::Node &node, ModelSpec &model) {
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

void detail::ModelParser::parseData(const YAML::Node &node, ModelSpec &model) {
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
                "target), not '" +
                    targets + "'",
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

SplitSpec detail::ModelParser::parseSplit(const YAML::Node &node,
                                          const std::string &what) {
  return parseSplitSection(file, node, what);
}

void detail::ModelParser::parsePasses(const YAML::Node &node,
                                      ModelSpec &model) {
  YamlMap map(file, node, "passes",
              {"batchnorm", "residual", "clip", "skip_nonfinite"});
  model.passes.batchnorm = map.getBool("batchnorm", false);
  model.passes.batchnormLoc = map.loc("batchnorm");
  if (map.has("residual")) {
    // `residual: false`, `true` (K = 2, as --residual), or K: the layers
    // per identity skip.
    YAML::Node residual = map.get("residual");
    model.passes.residualLoc = map.loc("residual");
    if (const std::optional<bool> flag = boolScalar(residual))
      model.passes.residual = *flag ? 2 : 0;
    else
      model.passes.residual = asInt(file, residual, "residual", 1, 1000);
  }
  if (map.has("clip"))
    model.passes.clip = parseClipSection(file, map.get("clip"));
  model.passes.skipNonfinite = map.getBool("skip_nonfinite", false);
}

void detail::ModelParser::parseLog(const YAML::Node &node, ModelSpec &model) {
  YamlMap map(file, node, "log",
              {"grad_norms", "vanishing_below", "exploding_above"});
  if (map.has("grad_norms")) {
    YamlMap norms(file, map.get("grad_norms"), "log.grad_norms",
                  {"every", "file"});
    model.log.gradEvery = norms.getInt("every", 50, 1, 1000000000);
    if (norms.has("file"))
      model.log.gradFile = parsePathText(file, norms, "file");
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

ModelSpec parseModel(const std::string &path, const std::string &text,
                     DataFiles data) {
  if (text.size() > MaxFileBytes)
    userError(SourceLoc{path}, "the model file is larger than 1 MiB");
  checkNesting(path, text);

  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
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

  // A second document would otherwise be ignored without a word.
  if (documents.size() > 1) {
    const YAML::Mark mark = documents[1].Mark();
    userError(mark.is_null() ? SourceLoc{path}
                             : SourceLoc{path, mark.line + 1, mark.column + 1},
              "the model file holds more than one YAML document",
              "a model is one document; remove the '---' and what follows");
  }
  ModelSpec spec = detail::ModelParser(path).parse(
      documents.empty() ? YAML::Node() : documents[0]);
  for (const SplitSpec *split : {&spec.data.train, &spec.data.test})
    if (data == DataFiles::Required && !split->missingFiles.empty())
      throw split->missingFiles.front();
  return spec;
}

ModelSpec parseModelFile(const std::string &path, DataFiles data) {
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
  return parseModel(path, text, data);
}

} // namespace gradc
