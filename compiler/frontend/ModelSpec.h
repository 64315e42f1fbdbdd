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
  Ones, // not a user choice: the default of normalization weights
};

struct InitSpec {
  InitKind kind = InitKind::Default;
  double argument = 0;
};

// conv2d's padding: none, Keras's `same` (the output has ceil(in / stride)
// positions, an odd total padding puts the extra row and column at the
// bottom and right), or a given number of zeros on every side.
enum class PaddingKind { Valid, Same, Explicit };

struct LayerSpec {
  SourceLoc loc; // the layer's mapping in the file
  std::string name;
  std::string op; // dense, flatten, relu, sigmoid, tanh
  int64_t units = 0;
  bool bias = true;
  std::string activation; // empty: none
  SourceLoc activationLoc;
  InitSpec init;

  // The elementwise, normalization and regularization family. The parser
  // fills in PyTorch's defaults.
  double alpha = 0;  // leaky_relu's slope or elu's scale, as op or activation
  double rate = 0;   // dropout: the probability of zeroing an element
  double eps = 1e-5; // normalization: added to the variance
  double momentum = 0.1; // batchnorm: weight of a batch in running stats
  std::vector<LayerSpec> nested; // residual: output = input + f(input)

  // A node of the `graph:` form names its inputs: 'input' is the model's.
  std::vector<std::string> inputs;
  std::vector<SourceLoc> inputLocs;
  int64_t axis = -1; // concat: the axis of one sample, -1 the last

  // The convolutional family: conv2d, maxpool2d, avgpool2d.
  int64_t filters = 0;
  int64_t kernel = 0; // the square window: conv2d's kernel, a pool's size
  SourceLoc kernelLoc;
  int64_t stride = 1; // for a pool, its size unless given
  PaddingKind padding = PaddingKind::Valid;
  int64_t paddingSize = 0; // PaddingKind::Explicit: zeros on every side

  // The sequence family: rnn, lstm, embedding.
  int64_t hidden = 0;
  std::string recurrence = "tanh"; // rnn's `activation:`, tanh or relu
  bool returnSequence = false;     // `return: sequence`; false: last
  int64_t vocab = 0;
  int64_t dim = 0;
};

enum class LossKind { SoftmaxCrossEntropy, MeanSquaredError, BceWithLogits };

enum class OptimizerKind { Sgd, Adam, AdamW };

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::Sgd;
  double lr = 0.01;
  double momentum = 0;   // sgd
  bool nesterov = false; // sgd
  double weightDecay = 0;
  double beta1 = 0.9; // adam and adamw
  double beta2 = 0.999;
  double eps = 1e-8;
};

enum class ScheduleKind { None, Step, Cosine };

// The learning rate per epoch, as PyTorch's StepLR and CosineAnnealingLR.
struct ScheduleSpec {
  ScheduleKind kind = ScheduleKind::None;
  int64_t every = 0; // step: epochs between decays
  double gamma = 1;  // step: the factor of each decay
};

struct TrainSpec {
  int64_t batch = 32;
  int64_t epochs = 1;
  uint64_t seed = 0;
  bool shuffle = true;
  ScheduleSpec schedule;
};

// One split in one of its three forms; the paths of the others are empty.
// Paths are absolute or relative to the working directory.
struct SplitSpec {
  std::string images; // IDX
  std::string labels;
  std::string x; // .npy
  std::string y;
  std::string csv;
  int64_t labelColumn = -1; // the CSV column of the target
  SourceLoc xLoc, yLoc, csvLoc, labelLoc;
  // The files named that do not exist, as the errors to report when the
  // data are needed: building a trainer needs them, printing the graph or
  // the gradient-flow report does not.
  std::vector<UserError> missingFiles;
};

struct DataSpec {
  SplitSpec train;
  SplitSpec test;
  double scale = 1;
  bool normalize = false;
  double mean = 0;
  double std = 1;
  bool targetsAreInputs = false; // `targets: inputs`, for autoencoders
  SourceLoc targetsLoc;
};

struct LogSpec {
  int64_t gradEvery = 50;
  std::string gradFile; // empty: no CSV, the summary is still printed
  double vanishingBelow = 1e-6;
  double explodingAbove = 1e3;
};

enum class ClipKind { None, GlobalNorm, Value };

// Gradient clipping, as `passes: {clip: ...}` or gradc's switches set it.
struct ClipSpec {
  ClipKind kind = ClipKind::None;
  double threshold = 0; // the largest global norm, or the bound
};

// The mitigation passes that rewrite the model before autodiff.
struct PassesSpec {
  bool batchnorm = false;
  SourceLoc batchnormLoc;
  int64_t residual = 0; // layers per identity skip; 0: none
  SourceLoc residualLoc;
  // These two act in the trainer, after the backward pass.
  ClipSpec clip;
  bool skipNonfinite = false; // skip a non-finite step rather than stop
};

struct ModelSpec {
  std::string file; // the model file as given on the command line
  std::string name;
  SourceLoc nameLoc;
  std::vector<int64_t> input;
  SourceLoc inputLoc;
  std::vector<LayerSpec> layers; // in file order, for either form
  bool isGraph = false;          // `graph:` rather than `layers:`
  std::string output;            // `graph:`: the node that is the result
  SourceLoc outputLoc;
  LossKind loss = LossKind::SoftmaxCrossEntropy;
  SourceLoc lossLoc;
  OptimizerSpec optimizer;
  TrainSpec train;
  SourceLoc batchLoc;
  DataSpec data;
  LogSpec log;
  PassesSpec passes;
};

} // namespace gradc

#endif // GRADC_FRONTEND_MODELSPEC_H
