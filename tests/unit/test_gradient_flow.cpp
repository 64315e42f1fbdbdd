// Unit tests of the gradient-flow analysis behind `gradc --report`: the
// Gaussian expectations against closed forms, the init variances, and the
// outputs' size at initialization.
#include "analysis/GradientFlow.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace gradc;

TEST_CASE("gaussian expectation of z squared is the variance",
          "[gradient_flow]") {
  auto square = [](double z) { return z * z; };
  CHECK(gaussianExpectation(square, 1) == Approx(1).epsilon(1e-9));
  CHECK(gaussianExpectation(square, 7.5) == Approx(7.5).epsilon(1e-9));
  CHECK(gaussianExpectation(square, 0) == 0);
}

TEST_CASE("relu passes half the slope and half the variance",
          "[gradient_flow]") {
  for (double q : {0.01, 1.0, 40.0}) {
    ActivationMoments m = activationMoments("relu", 0, q);
    CHECK(m.slopeSquared == Approx(0.5).epsilon(1e-6));
    CHECK(m.valueSquared == Approx(q / 2).epsilon(1e-6));
  }
}

TEST_CASE("leaky relu's moments follow its slope", "[gradient_flow]") {
  ActivationMoments m = activationMoments("leaky_relu", 0.2, 3);
  CHECK(m.slopeSquared == Approx((1 + 0.04) / 2).epsilon(1e-6));
  CHECK(m.valueSquared == Approx(3 * (1 + 0.04) / 2).epsilon(1e-6));
}

TEST_CASE("tanh is the identity near zero", "[gradient_flow]") {
  ActivationMoments m = activationMoments("tanh", 0, 1e-6);
  CHECK(m.slopeSquared == Approx(1).epsilon(1e-5));
  CHECK(m.valueSquared == Approx(1e-6).epsilon(1e-4));
}

TEST_CASE("tanh saturates for a wide input", "[gradient_flow]") {
  ActivationMoments m = activationMoments("tanh", 0, 100);
  CHECK(m.slopeSquared < 0.1);
  CHECK(m.valueSquared > 0.9);
}

TEST_CASE("sigmoid's slope is at most a quarter", "[gradient_flow]") {
  ActivationMoments small = activationMoments("sigmoid", 0, 1e-6);
  CHECK(small.slopeSquared == Approx(1.0 / 16).epsilon(1e-5));
  CHECK(small.valueSquared == Approx(0.25).epsilon(1e-5));
  ActivationMoments wide = activationMoments("sigmoid", 0, 4);
  CHECK(wide.slopeSquared < 1.0 / 16);
}

TEST_CASE("gelu softplus and elu have finite moments", "[gradient_flow]") {
  // At a tiny variance each reduces to its slope at zero.
  CHECK(activationMoments("gelu", 0, 1e-8).slopeSquared ==
        Approx(0.25).epsilon(1e-4));
  CHECK(activationMoments("softplus", 0, 1e-8).slopeSquared ==
        Approx(0.25).epsilon(1e-4));
  CHECK(activationMoments("elu", 1, 1e-8).slopeSquared ==
        Approx(1).epsilon(1e-3));
}

TEST_CASE("init variances follow their rules", "[gradient_flow]") {
  CHECK(initVariance({InitKind::Default, 0}, 300, 10) == Approx(1.0 / 900));
  CHECK(initVariance({InitKind::HeNormal, 0}, 50, 10) == Approx(0.04));
  CHECK(initVariance({InitKind::XavierUniform, 0}, 30, 10) == Approx(0.05));
  CHECK(initVariance({InitKind::Normal, 0.1}, 30, 10) == Approx(0.01));
  CHECK(initVariance({InitKind::Uniform, 0.3}, 30, 10) == Approx(0.03));
}

TEST_CASE("activation means match closed forms", "[gradient_flow]") {
  CHECK(activationMoments("sigmoid", 0, 3).mean == Approx(0.5));
  CHECK(activationMoments("tanh", 0, 3).mean == Approx(0).margin(1e-12));
  CHECK(activationMoments("relu", 0, 2).mean ==
        Approx(std::sqrt(2 / (2 * M_PI))).epsilon(1e-5));
}

namespace {

// Six relu layers of 64 units from 64 inputs of E[x^2] = 1 (the input
// scale is unknown without a data section), every weight drawn with
// standard deviation `sd`.
FlowReport reportFor(const std::string &text) {
  const ModelSpec spec = parseModel("model.yaml", text);
  return analyzeGradientFlow(spec, buildForwardGraph(spec));
}

// `extra` is added to the model file: a passes: section, say.
FlowReport reportForReluStack(double sd, const std::string &extra = "") {
  std::string text = "model: stack\ninput: [64]\nlayers:\n";
  for (int i = 0; i < 6; ++i)
    text += "  - {op: dense, units: 64, activation: relu, init: {normal: " +
            std::to_string(sd) + "}}\n";
  text += "  - {op: dense, units: 10, init: {normal: " + std::to_string(sd) +
          "}}\nloss: softmax_cross_entropy\n"
          "optimizer: {type: sgd, lr: 0.1}\ntrain: {batch: 8, epochs: 1}\n";
  return reportFor(text + extra);
}

bool concludes(const FlowReport &report, const std::string &start) {
  return std::any_of(
      report.conclusions.begin(), report.conclusions.end(),
      [&](const std::string &line) { return line.rfind(start, 0) == 0; });
}

} // namespace

TEST_CASE("outputs that start large are flagged as exploding",
          "[gradient_flow]") {
  // Each layer multiplies E[x^2] by 64 * sd^2 / 2 (relu keeps half) plus
  // the bias's 1 / (3 * 64); the last one by 64 * sd^2.
  const FlowReport wide = reportForReluStack(0.4);
  double second = 1;
  for (int i = 0; i < 6; ++i)
    second = (64 * 0.16 * second + 1.0 / 192) / 2;
  second = 64 * 0.16 * second + 1.0 / 192;
  CHECK(wide.outputRms == Approx(std::sqrt(second)).epsilon(1e-3));
  CHECK(wide.outputRms > 100);
  CHECK(wide.flagged);
  CHECK(concludes(wide, "activations explode"));
  CHECK_FALSE(concludes(wide, "gradient flow looks healthy"));

  // he_normal's standard deviation for 64 inputs keeps the size near 1.
  const FlowReport he = reportForReluStack(std::sqrt(2.0 / 64));
  CHECK(he.outputRms < 10);
  CHECK_FALSE(he.flagged);
  CHECK(concludes(he, "gradient flow looks healthy"));
}

TEST_CASE("a clipped network is not told to clip", "[gradient_flow]") {
  const FlowReport clipped =
      reportForReluStack(0.4, "passes: {clip: {global_norm: 1}}\n");
  CHECK(concludes(clipped, "activations explode"));
  CHECK(concludes(clipped, "the gradient is clipped"));
  CHECK_FALSE(concludes(clipped, "clip the gradient"));
  CHECK(concludes(reportForReluStack(0.4), "clip the gradient"));
}

TEST_CASE("layers the analysis does not model are named in its conclusion",
          "[gradient_flow]") {
  const FlowReport report = reportFor(R"(model: recurrent
input: [50, 2]
layers:
  - {op: rnn, hidden: 16, activation: tanh, return: last}
  - {op: dense, units: 1}
loss: mse
optimizer: {type: sgd, lr: 0.1}
train: {batch: 8, epochs: 1}
)");
  CHECK(concludes(report, "gradient flow looks healthy through the layers "
                          "modelled"));
  CHECK(concludes(report, "'rnn' layers are not analysed"));
}

TEST_CASE("an estimate past the range of doubles says so", "[gradient_flow]") {
  std::string text = "model: huge\ninput: [8]\nlayers:\n";
  for (int i = 0; i < 60; ++i)
    text += "  - {op: dense, units: 8, activation: relu, "
            "init: {normal: 1000000}}\n";
  text += "  - {op: dense, units: 8}\nloss: softmax_cross_entropy\n"
          "optimizer: {type: sgd, lr: 0.1}\ntrain: {batch: 2, epochs: 1}\n";
  const FlowReport report = reportFor(text);
  CHECK(report.flagged);
  CHECK(concludes(report, "gradients explode: the backward signal grows to "
                          "beyond the range of doubles"));
  CHECK(concludes(report, "activations explode: the outputs start at a "
                          "typical size of beyond the range of doubles"));
}
