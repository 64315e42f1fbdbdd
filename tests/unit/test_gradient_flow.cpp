// Unit tests of the gradient-flow analysis behind `gradc --report`: the
// Gaussian expectations against closed forms, and the init variances.
#include "analysis/GradientFlow.h"

#include <catch2/catch.hpp>

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
