//===- GradientFlow.h - Static gradient-flow analysis ----------*- C++ -*-===//
//
// What `gradc --report` prints: the expected gain of the backward signal
// through each layer at initialization, from signal-propagation theory,
// so that vanishing or exploding gradients can be seen before a build.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_ANALYSIS_GRADIENTFLOW_H
#define GRADC_ANALYSIS_GRADIENTFLOW_H

#include "frontend/ModelSpec.h"
#include "ir/Graph.h"

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace gradc {

// E[f(z)] for z ~ N(0, variance), by quadrature on a fine grid.
double gaussianExpectation(const std::function<double(double)> &f,
                           double variance);

// E[phi'(z)^2], E[phi(z)^2] and E[phi(z)] for z ~ N(0, variance): the
// squared backward gain through the activation, and the second moment and
// mean it passes forward. `alpha` is leaky_relu's slope or elu's scale.
struct ActivationMoments {
  double slopeSquared = 1;
  double valueSquared = 0;
  double mean = 0; // E[phi(z)]
};
ActivationMoments activationMoments(const std::string &activation, double alpha,
                                    double variance);

// The variance of a weight drawn by `init` for the given fans.
double initVariance(const InitSpec &init, int64_t fanIn, int64_t fanOut);

struct FlowRow {
  std::string layer;
  std::string op;
  double gain = 1;    // |dL/d input| / |dL/d output| of the layer
  double product = 1; // |dL/d input| / |dL/d model output|
  std::string flag;   // "", "vanishing" or "exploding"
};

struct FlowReport {
  std::vector<FlowRow> rows; // from the loss back to the input
  double inputSecondMoment = 1;
  std::string inputNote; // where inputSecondMoment came from
  // The gradient at the first parametrized layer's pre-activation over
  // that at the last one's, and the same for their weight-gradient norms
  // (which also scale with the norm of each layer's input). Zero when
  // the model has fewer than two such layers.
  double firstOverLastSignal = 0;
  double firstOverLastWeightGrad = 0;
  // The root mean square of one output element at initialization.
  double outputRms = 0;
  std::vector<std::string> notes;       // approximations that were used
  std::vector<std::string> conclusions; // plain words and suggestions
  bool flagged = false;
};

FlowReport analyzeGradientFlow(const ModelSpec &spec, const Graph &graph);

void printFlowReport(const FlowReport &report, std::ostream &out);

} // namespace gradc

#endif // GRADC_ANALYSIS_GRADIENTFLOW_H
