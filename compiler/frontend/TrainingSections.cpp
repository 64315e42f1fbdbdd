//===- TrainingSections.cpp - Optimizer, schedule and data splits ---------===//
//
// The schema of `optimizer`, `train.schedule` and the splits of `data`.
// Ranges follow PyTorch's own checks (torch.optim.Adam refuses a beta
// outside [0, 1), for instance), so a model that gradc accepts is one that
// PyTorch would accept too. A key that belongs to another optimizer or
// schedule is refused by name rather than ignored, since a user who writes
// `momentum` for adam expects it to do something.
//
//===----------------------------------------------------------------------===//
#include "frontend/TrainingSections.h"

#include "frontend/YamlReader.h"

#include <filesystem>

namespace gradc {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> OptimizerTypes = {"sgd", "adam", "adamw"};
const std::vector<std::string> ScheduleTypes = {"step", "cosine"};

// A CSV wider than this is not a table of features a dense layer could
// take; the bound keeps the column number a plain int64 later on.
constexpr int64_t MaxCsvColumn = int64_t(1) << 24;

std::string hintFor(const std::string &word,
                    const std::vector<std::string> &known,
                    const std::string &listing) {
  std::string suggestion = closestWord(word, known);
  return suggestion.empty() ? listing : "did you mean '" + suggestion + "'?";
}

// beta1 and beta2 are decay rates of running averages; PyTorch accepts
// them in [0, 1), and at 1 the average would never move.
double parseBeta(const YamlMap &map, const std::string &key, double fallback,
                 const std::string &fallbackText) {
  if (!map.has(key))
    return fallback;
  YAML::Node node = map.get(key);
  double value = asDouble(map.file, node, key, -1e30, 1e30);
  if (value < 0 || value >= 1)
    userError(map.loc(key),
              "'" + key + "' is " + node.Scalar() +
                  ", but it must be at least 0 and below 1",
              "it is the decay rate of a running average of the gradient; "
              "PyTorch's default is " +
                  fallbackText);
  return value;
}

void refuseKeys(const YamlMap &map, const std::vector<std::string> &keys,
                const std::string &owner, const std::string &type,
                const std::string &hint) {
  for (const std::string &key : keys)
    if (map.has(key))
      userError(map.loc(key),
                "'" + key + "' belongs to " + owner + ", not " + type, hint);
}

std::string parseDataPath(const std::string &file, const YamlMap &map,
                          const std::string &key,
                          std::vector<UserError> &missing) {
  std::string given = parsePathText(file, map, key);
  fs::path path(given);
  std::error_code error;
  if (path.is_relative())
    path = fs::absolute(fs::path(file).parent_path() / path, error);

  if (fs::exists(path, error) && !fs::is_regular_file(path, error))
    userError(map.loc(key), "data file '" + given + "' is not a regular file",
              "name the file itself, not a folder or a device");
  if (!fs::is_regular_file(path, error))
    missing.emplace_back(map.loc(key),
                         "data file '" + given + "' does not exist",
                         fs::path(given).is_relative()
                             ? "relative paths are relative to the model "
                               "file, so this is " +
                                   path.lexically_normal().string()
                             : "");
  return path.lexically_normal().string();
}

} // namespace

OptimizerSpec parseOptimizerSection(const std::string &file,
                                    const YAML::Node &node) {
  YamlMap map(file, node, "optimizer",
              {"type", "lr", "momentum", "nesterov", "weight_decay", "beta1",
               "beta2", "eps"});
  std::string type = asString(file, map.require("type"), "type");
  OptimizerSpec opt;
  if (type == "sgd")
    opt.kind = OptimizerKind::Sgd;
  else if (type == "adam")
    opt.kind = OptimizerKind::Adam;
  else if (type == "adamw")
    opt.kind = OptimizerKind::AdamW;
  else
    userError(map.loc("type"), "unknown optimizer '" + type + "'",
              hintFor(type, OptimizerTypes, "optimizers: sgd, adam, adamw"));

  opt.lr = asDouble(file, map.require("lr"), "lr", 0, 1e6);
  // AdamW exists for its decoupled decay, so PyTorch gives it a default.
  opt.weightDecay = map.getDouble(
      "weight_decay", opt.kind == OptimizerKind::AdamW ? 0.01 : 0, 0, 1e6);

  if (opt.kind == OptimizerKind::Sgd) {
    refuseKeys(map, {"beta1", "beta2", "eps"}, "adam and adamw", "sgd",
               "sgd's running average of the gradient is 'momentum'");
    opt.momentum = map.getDouble("momentum", 0, 0, 1);
    opt.nesterov = map.getBool("nesterov", false);
    if (opt.nesterov && opt.momentum == 0)
      userError(map.loc("nesterov"), "nesterov needs a momentum above 0");
    return opt;
  }

  refuseKeys(map, {"momentum", "nesterov"}, "sgd", type,
             type + "'s running averages of the gradient are set by 'beta1' "
                    "and 'beta2'");
  opt.beta1 = parseBeta(map, "beta1", 0.9, "0.9");
  opt.beta2 = parseBeta(map, "beta2", 0.999, "0.999");
  opt.eps = map.getDouble("eps", 1e-8, 0, 1);
  return opt;
}

ScheduleSpec parseScheduleSection(const std::string &file,
                                  const YAML::Node &node) {
  YamlMap map(file, node, "train.schedule", {"type", "every", "gamma"});
  std::string type = asString(file, map.require("type"), "type");
  ScheduleSpec schedule;

  if (type == "step") {
    schedule.kind = ScheduleKind::Step;
    for (const char *key : {"every", "gamma"})
      if (!map.has(key))
        userError(map.loc(), std::string("a step schedule needs '") + key + "'",
                  "write {type: step, every: EPOCHS, gamma: G}: the learning "
                  "rate is multiplied by G every EPOCHS epochs");
    schedule.every = asInt(file, map.get("every"), "every", 1, 1000000);
    schedule.gamma = asDouble(file, map.get("gamma"), "gamma", 0, 1e6);
    return schedule;
  }

  if (type == "cosine") {
    schedule.kind = ScheduleKind::Cosine;
    refuseKeys(map, {"every", "gamma"}, "the step schedule", "cosine",
               "cosine anneals the learning rate to 0 over all the epochs "
               "and takes no other field");
    return schedule;
  }

  userError(map.loc("type"), "unknown schedule '" + type + "'",
            hintFor(type, ScheduleTypes, "schedules: step, cosine"));
}

SplitSpec parseSplitSection(const std::string &file, const YAML::Node &node,
                            const std::string &what) {
  struct Form {
    std::string first, second;
  };
  static const Form Forms[] = {
      {"images", "labels"}, {"x", "y"}, {"csv", "label"}};
  static const std::string FormsHint =
      "a split is {images, labels} (IDX files), {x, y} (.npy files) or "
      "{csv, label} (a CSV file and the 0-based column of its target)";

  YamlMap map(file, node, what, {"images", "labels", "x", "y", "csv", "label"});
  const Form *chosen = nullptr;
  for (const Form &form : Forms) {
    for (const std::string &key : {form.first, form.second}) {
      if (!map.has(key) || chosen == &form)
        continue;
      if (chosen)
        userError(
            map.loc(key),
            what + " mixes '" + key + "' with '" +
                (map.has(chosen->first) ? chosen->first : chosen->second) + "'",
            FormsHint);
      chosen = &form;
    }
  }
  if (!chosen)
    userError(map.loc(), what + " names no data", FormsHint);
  for (const std::string &key : {chosen->first, chosen->second})
    if (!map.has(key))
      userError(map.loc(),
                what + " needs '" + key + "' alongside '" +
                    (key == chosen->first ? chosen->second : chosen->first) +
                    "'",
                FormsHint);

  SplitSpec split;
  if (chosen->first == "images") {
    split.images = parseDataPath(file, map, "images", split.missingFiles);
    split.labels = parseDataPath(file, map, "labels", split.missingFiles);
  } else if (chosen->first == "x") {
    split.x = parseDataPath(file, map, "x", split.missingFiles);
    split.xLoc = map.loc("x");
    split.y = parseDataPath(file, map, "y", split.missingFiles);
    split.yLoc = map.loc("y");
  } else {
    split.csv = parseDataPath(file, map, "csv", split.missingFiles);
    split.csvLoc = map.loc("csv");
    split.labelColumn = asInt(file, map.get("label"), "label", 0, MaxCsvColumn);
    split.labelLoc = map.loc("label");
  }
  return split;
}

std::string parsePathText(const std::string &file, const YamlMap &map,
                          const std::string &key) {
  std::string given = asString(file, map.get(key), key);
  if (given.empty() || given.find('\0') != std::string::npos)
    userError(map.loc(key), "'" + key + "' must be a file's path");
  return given;
}

} // namespace gradc
