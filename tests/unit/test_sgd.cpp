// The optimizer against steps worked out by hand from PyTorch's rule:
// g += wd * p; v = g on the first step, momentum * v + g after; nesterov
// uses g + momentum * v; p -= lr * g. Buffers are never touched.
#include "sgd.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

// One trainable parameter of two values, then a buffer of one.
const gradc_param_info kParams[] = {
    {"w", 1, {2}, 0, 2, GRADC_INIT_ZEROS, 0, 1, 1, 0, 0},
    {"running", 1, {1}, 2, 1, GRADC_INIT_ZEROS, 0, 1, 1, 0, 1},
};

gradc_model twoParamModel() {
  gradc_model model{};
  model.num_params = 2;
  model.params = kParams;
  model.param_size = 3;
  return model;
}

gradc::OptimizerSettings sgdSettings(double lr, double momentum,
                                     double weight_decay, bool nesterov) {
  gradc::OptimizerSettings settings;
  settings.lr = lr;
  settings.momentum = momentum;
  settings.weight_decay = weight_decay;
  settings.nesterov = nesterov;
  return settings;
}

std::vector<float> twoSteps(const gradc::OptimizerSettings &settings) {
  const gradc_model model = twoParamModel();
  gradc::Sgd sgd(model, settings);
  std::vector<float> params = {1.0f, -2.0f, 7.0f};
  const std::vector<float> first = {0.5f, 0.25f, 3.0f};
  const std::vector<float> second = {0.1f, -0.3f, 3.0f};
  sgd.step(params.data(), first.data());
  sgd.step(params.data(), second.data());
  return params;
}

} // namespace

TEST_CASE("sgd with momentum starts its buffer from the gradient", "[sgd]") {
  // v1 = g1 = (0.5, 0.25); p1 = (0.95, -2.025)
  // v2 = 0.9 v1 + g2 = (0.55, -0.075); p2 = (0.895, -2.0175)
  const std::vector<float> params = twoSteps(sgdSettings(0.1, 0.9, 0.0, false));
  CHECK(params[0] == Approx(0.895).epsilon(1e-6));
  CHECK(params[1] == Approx(-2.0175).epsilon(1e-6));
  CHECK(params[2] == 7.0f);
}

TEST_CASE("nesterov looks ahead along the buffer", "[sgd]") {
  // step 1: v = (0.5, 0.25), g = g1 + 0.9 v = (0.95, 0.475),
  //         p1 = (0.905, -2.0475)
  // step 2: v = (0.55, -0.075), g = g2 + 0.9 v = (0.595, -0.3675),
  //         p2 = (0.8455, -2.01075)
  const std::vector<float> params = twoSteps(sgdSettings(0.1, 0.9, 0.0, true));
  CHECK(params[0] == Approx(0.8455).epsilon(1e-6));
  CHECK(params[1] == Approx(-2.01075).epsilon(1e-6));
  CHECK(params[2] == 7.0f);
}

TEST_CASE("weight decay adds to the gradient", "[sgd]") {
  // step 1: g = (0.5 + 0.01, 0.25 - 0.02), p1 = (0.949, -2.023)
  // step 2: g = (0.1 + 0.00949, -0.3 - 0.02023), p2 = (0.938051, -1.990977)
  const std::vector<float> params =
      twoSteps(sgdSettings(0.1, 0.0, 0.01, false));
  CHECK(params[0] == Approx(0.938051).epsilon(1e-6));
  CHECK(params[1] == Approx(-1.990977).epsilon(1e-6));
  CHECK(params[2] == 7.0f);
}

TEST_CASE("sgd without momentum keeps no state", "[sgd]") {
  const gradc_model model = twoParamModel();
  gradc::Sgd sgd(model, sgdSettings(0.1, 0.0, 0.0, false));
  std::vector<float> params = {1.0f, -2.0f, 7.0f};
  const std::vector<float> grads = {0.5f, 0.25f, 3.0f};
  sgd.step(params.data(), grads.data());
  CHECK(sgd.slotNames().empty());
  CHECK_FALSE(sgd.hasState());
  CHECK(sgd.steps() == 1);
  CHECK(params[0] == Approx(0.95).epsilon(1e-6));
}

TEST_CASE("a restored buffer continues the run", "[sgd]") {
  const gradc_model model = twoParamModel();
  gradc::Sgd sgd(model, sgdSettings(0.1, 0.9, 0.0, false));
  CHECK_FALSE(sgd.hasState());
  REQUIRE(sgd.slotNames() == std::vector<std::string>{"momentum_buffer"});
  sgd.restore({{"momentum_buffer", {0.5f, 0.25f, 0.0f}}}, 1);
  CHECK(sgd.hasState());

  // As the second step above: v = 0.9 (0.5, 0.25) + (0.1, -0.3).
  std::vector<float> params = {0.95f, -2.025f, 7.0f};
  const std::vector<float> grads = {0.1f, -0.3f, 0.0f};
  sgd.step(params.data(), grads.data());
  CHECK(params[0] == Approx(0.895).epsilon(1e-6));
  CHECK(sgd.slots()[0].values[1] == Approx(-0.075).epsilon(1e-6));
  CHECK(sgd.steps() == 2);
}
