//===- ModelSpec.h - The model file, validated ----------------*- C++ -*-===//
//
// What the parser makes of a model file: every field checked, defaults
// filled in, paths resolved, and each value's location kept so that later
// stages (shape inference, size limits) can still point at the YAML.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_FRONTEND_MODELSPEC_H
#define GRADC_FRONTEND_MODELSPEC_H

#include "frontend/Diagnostics.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

enum class InitKind {
  Default,
  HeUniform,
  HeNormal,
  XavierUniform,
  XavierNormal,
  Normal,  // argument: standard deviation
  Uniform, // argument: limit
  Zeros,
};

struct InitSpec {
  InitKind kind = InitKind::Default;
  double argument = 0;
};

struct LayerSpec {
  SourceLoc loc; // the layer's mapping in the file
  std::string name;
  std::string op; // dense, flatten, relu, sigmoid, tanh
  int64_t units = 0;
  bool bias = true;
  std::string activation; // empty: none
  SourceLoc activationLoc;
  InitSpec init;
};

enum class LossKind { SoftmaxCrossEntropy, MeanSquaredError };

struct OptimizerSpec {
  double lr = 0.01;
  double momentum = 0;
  bool nesterov = false;
  double weightDecay = 0;
};

struct TrainSpec {
  int64_t batch = 32;
  int64_t epochs = 1;
  uint64_t seed = 0;
  bool shuffle = true;
};

struct SplitSpec {
  std::string images; // absolute or relative to the working directory
  std::string labels;
};

struct DataSpec {
  SplitSpec train;
  SplitSpec test;
  double scale = 1;
  bool normalize = false;
  double mean = 0;
  double std = 1;
};

struct LogSpec {
  int64_t gradEvery = 50;
  std::string gradFile; // empty: no CSV, the summary is still printed
  double vanishingBelow = 1e-6;
  double explodingAbove = 1e3;
};

struct ModelSpec {
  std::string file; // the model file as given on the command line
  std::string name;
  SourceLoc nameLoc;
  std::vector<int64_t> input;
  SourceLoc inputLoc;
  std::vector<LayerSpec> layers;
  LossKind loss = LossKind::SoftmaxCrossEntropy;
  SourceLoc lossLoc;
  OptimizerSpec optimizer;
  TrainSpec train;
  SourceLoc batchLoc;
  DataSpec data;
  LogSpec log;
};

} // namespace gradc

#endif // GRADC_FRONTEND_MODELSPEC_H
