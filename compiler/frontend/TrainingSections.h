//===- TrainingSections.h - Optimizer, schedule and data splits -*- C++ -*-===//
//
// The parts of the model file that say how to train rather than what to
// compute: `optimizer`, `train.schedule` and each split of `data`. The
// model parser calls these for the sections it finds; each checks its
// keys, types and ranges and fails with a located UserError.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_FRONTEND_TRAININGSECTIONS_H
#define GRADC_FRONTEND_TRAININGSECTIONS_H

#include "frontend/ModelSpec.h"
#include "frontend/YamlReader.h"

#include <yaml-cpp/yaml.h>

#include <string>

namespace gradc {

// {type: sgd|adam|adamw, lr, ...} with PyTorch's defaults filled in.
OptimizerSpec parseOptimizerSection(const std::string &file,
                                    const YAML::Node &node);

// {type: step, every, gamma} or {type: cosine}.
ScheduleSpec parseScheduleSection(const std::string &file,
                                  const YAML::Node &node);

// {images, labels}, {x, y} or {csv, label}, with every path resolved
// against the model file's folder; the files that do not exist are listed
// in missingFiles. `what` names the split in messages ("data.train").
SplitSpec parseSplitSection(const std::string &file, const YAML::Node &node,
                            const std::string &what);

// The path `key` of `map` names, as text: a string, not empty, without
// a NUL byte (which would cut the name short where the trainer opens it).
std::string parsePathText(const std::string &file, const YamlMap &map,
                          const std::string &key);

} // namespace gradc

#endif // GRADC_FRONTEND_TRAININGSECTIONS_H
