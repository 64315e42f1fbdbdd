// Tests of the diagnostics of the elementwise, normalization and
// regularization family: a dropout rate outside [0, 1), a layernorm eps
// that is not positive, an alpha where no activation takes one, misspelt
// activations, ops and keys. Each must end in a UserError that says what
// is wrong and points at the line and column, as test_diagnostics.cpp
// checks for the rest of the language. The valid models at the end check
// that the family's fields reach the graph.
#include "frontend/Diagnostics.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"

#include <catch2/catch.hpp>

#include "diagnostic_checks.h"

#include <string>

using Catch::Matchers::Contains;
using gradc::UserError;

namespace {

// A valid model whose fourth line is its one layer; each test writes its
// own fourth line.
std::string withLayer(const std::string &layer) {
  return "model: m\n"
         "input: [4]\n"
         "layers:\n" +
         layer +
         "\n"
         "  - {op: dense, units: 3}\n"
         "loss: softmax_cross_entropy\n"
         "optimizer: {type: sgd, lr: 0.1}\n";
}

// The attribute `name` of the first node of op `op`.
double attributeOf(const gradc::Graph &graph, gradc::OpKind op,
                   const std::string &name) {
  for (const gradc::Node &node : graph.nodes)
    if (node.op == op)
      return node.attrs.at(name);
  FAIL("no node of op " << gradc::opName(op));
  return 0;
}

} // namespace

TEST_CASE("a dropout rate below 0, at 1 or above", "[diagnostics]") {
  expectError(withLayer("  - {op: dropout, rate: 1}"), 4, 25,
              "dropout 'rate' is 1, but it must be at least 0 and below 1",
              "probability of zeroing");
  expectError(withLayer("  - {op: dropout, rate: 1.5}"), 4, 25,
              "dropout 'rate' is 1.5, but it must be at least 0");
  expectError(withLayer("  - {op: dropout, rate: -0.1}"), 4, 25,
              "dropout 'rate' is -0.1");
  expectError(withLayer("  - {op: dropout, rate: half}"), 4, 25,
              "'rate' must be a finite number, not 'half'");
  expectError(withLayer("  - {op: dropout, rate: .nan}"), 4, 25,
              "'rate' must be a finite number");
}

TEST_CASE("a dropout without a rate", "[diagnostics]") {
  expectError(withLayer("  - {op: dropout}"), 4, 5,
              "layer 0 (dropout) needs 'rate'");
  expectError(withLayer("  - {op: dropout, keep_probability: 0.5}"), 4, 19,
              "unknown key 'keep_probability' in layer 0 (dropout)",
              "known keys: 'op', 'name', 'rate'");
  expectError(withLayer("  - {op: dropout, rtae: 0.5}"), 4, 19,
              "unknown key 'rtae'", "did you mean 'rate'?");
}

TEST_CASE("a layernorm eps that is not positive", "[diagnostics]") {
  expectError(withLayer("  - {op: layernorm, eps: 0}"), 4, 26,
              "'eps' is 0, but it must be positive", "1e-5");
  expectError(withLayer("  - {op: layernorm, eps: -1e-5}"), 4, 26,
              "'eps' is -1e-5, but it must be positive");
  expectError(withLayer("  - {op: layernorm, eps: [1]}"), 4, 26,
              "'eps' must be a number, not a list");
  expectError(withLayer("  - {op: layernorm, epss: 1e-5}"), 4, 21,
              "unknown key 'epss' in layer 0 (layernorm)",
              "did you mean 'eps'?");
}

TEST_CASE("an unknown activation still gets a did-you-mean hint",
          "[diagnostics]") {
  expectError(withLayer("  - {op: dense, units: 5, activation: leaky_rlu}"), 4,
              39, "unknown activation 'leaky_rlu'",
              "did you mean 'leaky_relu'?");
  expectError(withLayer("  - {op: dense, units: 5, activation: gelus}"), 4, 39,
              "unknown activation 'gelus'", "did you mean 'gelu'?");
  expectError(withLayer("  - {op: dense, units: 5, activation: softpluss}"), 4,
              39, "unknown activation 'softpluss'", "did you mean 'softplus'?");
  expectError(withLayer("  - {op: dense, units: 5, activation: swishy}"), 4, 39,
              "unknown activation 'swishy'",
              "activations: relu, sigmoid, tanh, leaky_relu, elu, gelu, "
              "softplus, softmax, none");
}

TEST_CASE("a misspelt op of the family gets a did-you-mean hint",
          "[diagnostics]") {
  expectError(withLayer("  - {op: dropuot, rate: 0.5}"), 4, 10,
              "unknown op 'dropuot'", "did you mean 'dropout'?");
  expectError(withLayer("  - {op: layer_norm}"), 4, 10,
              "unknown op 'layer_norm'", "did you mean 'layernorm'?");
  expectError(withLayer("  - {op: leakyrelu}"), 4, 10, "unknown op 'leakyrelu'",
              "did you mean 'leaky_relu'?");
}

TEST_CASE("an alpha where the activation takes none", "[diagnostics]") {
  expectError(
      withLayer("  - {op: dense, units: 5, activation: relu, alpha: 0.2}"), 4,
      52,
      "'alpha' belongs to a leaky_relu or elu activation, but this "
      "layer's activation is 'relu'",
      "remove 'alpha'");
  expectError(withLayer("  - {op: dense, units: 5, alpha: 0.2}"), 4, 34,
              "this layer's activation is none");
  expectError(withLayer("  - {op: gelu, alpha: 0.2}"), 4, 16,
              "unknown key 'alpha' in layer 0 (gelu)");
  expectError(withLayer("  - {op: leaky_relu, alpha: 1e7}"), 4, 29,
              "'alpha' is 1e7, but it must be between");
}

TEST_CASE("the family's fields and defaults reach the graph", "[diagnostics]") {
  using gradc::OpKind;
  CHECK(attributeOf(build(withLayer("  - {op: leaky_relu}")), OpKind::LeakyRelu,
                    "alpha") == 0.01);
  CHECK(attributeOf(build(withLayer("  - {op: leaky_relu, alpha: 0.2}")),
                    OpKind::LeakyRelu, "alpha") == 0.2);
  CHECK(attributeOf(build(withLayer("  - {op: elu}")), OpKind::Elu, "alpha") ==
        1.0);
  CHECK(attributeOf(build(withLayer("  - {op: dense, units: 5, activation: "
                                    "elu, alpha: 0.5}")),
                    OpKind::Elu, "alpha") == 0.5);
  CHECK(attributeOf(build(withLayer("  - {op: dense, units: 5, activation: "
                                    "leaky_relu}")),
                    OpKind::LeakyRelu, "alpha") == 0.01);
  CHECK(attributeOf(build(withLayer("  - {op: dropout, rate: 0}")),
                    OpKind::Dropout, "rate") == 0.0);
  CHECK(attributeOf(build(withLayer("  - {op: dropout, rate: 0.25}")),
                    OpKind::Dropout, "rate") == 0.25);
  CHECK(attributeOf(build(withLayer("  - {op: layernorm}")), OpKind::LayerNorm,
                    "eps") == 1e-5);
  CHECK(attributeOf(build(withLayer("  - {op: layernorm, eps: 0.001}")),
                    OpKind::LayerNorm, "eps") == 0.001);

  // LayerNorm's parameters start as PyTorch's do, whatever the layer.
  gradc::Graph graph = build(withLayer("  - {op: layernorm}"));
  REQUIRE(graph.params.size() >= 2);
  CHECK(graph.params[0].name == "layer0.weight");
  CHECK(graph.params[0].init.kind == gradc::InitKind::Ones);
  CHECK(graph.params[1].name == "layer0.bias");
  CHECK(graph.params[1].init.kind == gradc::InitKind::Zeros);
}

TEST_CASE("bce_with_logits is a loss over float targets", "[diagnostics]") {
  std::string text = withLayer("  - {op: dense, units: 5, activation: gelu}");
  text.replace(text.find("softmax_cross_entropy"),
               std::string("softmax_cross_entropy").size(), "bce_with_logits");
  gradc::Graph graph = build(text);
  CHECK(graph.loss == gradc::LossKind::BceWithLogits);
  CHECK(graph.node(graph.lossNode).op == gradc::OpKind::BceWithLogits);
  CHECK(graph.targets >= 0);
  CHECK(graph.labels < 0);

  text.replace(text.find("bce_with_logits"),
               std::string("bce_with_logits").size(), "bce_with_logit");
  expectError(text, 6, 7, "unknown loss 'bce_with_logit'",
              "did you mean 'bce_with_logits'?");
}
