// Tests of the diagnostics of BatchNorm and residual blocks: a batchnorm
// on an input it cannot normalize, a residual block that changes the
// shape, an empty block, and names that collide across nesting levels.
// Each must end in a UserError that says what is wrong and where.
#include "frontend/Diagnostics.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"

#include <catch2/catch.hpp>

#include "diagnostic_checks.h"
#include "passes/InsertBatchNorm.h"
#include "passes/InsertResidual.h"

#include <string>

using Catch::Matchers::Contains;
using gradc::UserError;

namespace {

std::string model(const std::string &input, const std::string &layers) {
  return "model: m\n"
         "input: " +
         input +
         "\n"
         "layers:\n" +
         layers +
         "  - {op: flatten}\n"
         "  - {op: dense, units: 3}\n"
         "loss: softmax_cross_entropy\n"
         "optimizer: {type: sgd, lr: 0.1}\n";
}

} // namespace

TEST_CASE("batchnorm on an input of two axes", "[diagnostics]") {
  expectError(model("[4, 5]", "  - {op: batchnorm}\n"), 4, 5,
              "batchnorm normalizes [features] or [channels, height, "
              "width], but its input (the model input) is [B,4,5]");
}

TEST_CASE("batchnorm settings out of range", "[diagnostics]") {
  expectError(model("[4]", "  - {op: batchnorm, momentum: 1.5}\n"), 4, 31,
              "'momentum' is 1.5, but it must be between 0 and 1");
  expectError(model("[4]", "  - {op: batchnorm, eps: 0}\n"), 4, 26,
              "'eps' is 0");
}

TEST_CASE("a residual block that changes the shape", "[diagnostics]") {
  expectError(model("[4]", "  - {op: dense, units: 6, name: fc}\n"
                           "  - op: residual\n"
                           "    name: block\n"
                           "    layers:\n"
                           "      - {op: dense, units: 6}\n"
                           "      - {op: dense, units: 2, name: narrow}\n"),
              5, 5,
              "residual block 'block' adds its input to its output, so "
              "they need one shape, but its input is [B,6] and its last "
              "layer 'narrow' gives [B,2]");
}

TEST_CASE("a residual block without layers", "[diagnostics]") {
  expectError(model("[4]", "  - {op: residual, layers: []}\n"), 4, 28,
              "a residual block's 'layers' must be a non-empty list");
  expectError(model("[4]", "  - {op: residual}\n"), 4, 5, "needs 'layers'");
}

TEST_CASE("a nested layer named like an outer one", "[diagnostics]") {
  expectError(model("[4]", "  - {op: dense, units: 4, name: a}\n"
                           "  - op: residual\n"
                           "    layers:\n"
                           "      - {op: dense, units: 4, name: a}\n"),
              7, 9, "two layers are named 'a'");
}

TEST_CASE("nested layers are named after their block", "[diagnostics]") {
  gradc::Graph graph = build(model("[4]", "  - op: residual\n"
                                          "    layers:\n"
                                          "      - {op: dense, units: 4}\n"
                                          "      - {op: relu}\n"));
  REQUIRE(graph.layers.size() >= 3);
  CHECK(graph.layers[0].name == "layer0");
  CHECK(graph.layers[0].op == "residual");
  CHECK(graph.layers[1].name == "layer0.0");
  CHECK(graph.layers[2].name == "layer0.1");
  CHECK(graph.params[0].name == "layer0.0.weight");
  CHECK(graph.params[0].layer == 1);
}

namespace {

// A graph: model with the given nodes and output.
std::string graphModel(const std::string &nodes,
                       const std::string &output = "out") {
  return "model: g\n"
         "input: [4]\n"
         "graph:\n" +
         nodes + "output: " + output +
         "\n"
         "loss: softmax_cross_entropy\n"
         "optimizer: {type: sgd, lr: 0.1}\n";
}

} // namespace

TEST_CASE("a graph with a cycle", "[diagnostics]") {
  expectError(graphModel("  - {name: a, op: dense, units: 4, input: b}\n"
                         "  - {name: b, op: dense, units: 4, input: a}\n"
                         "  - {name: out, op: dense, units: 3, input: b}\n"),
              4, 43, "the graph has a cycle: 'a' needs 'b', which needs 'a'");
}

TEST_CASE("a graph node with a missing input", "[diagnostics]") {
  expectError(graphModel("  - {name: h1, op: dense, units: 4, input: input}\n"
                         "  - {name: out, op: dense, units: 3, input: h2}\n"),
              5, 45, "input 'h2' is not a node of the graph");
}

TEST_CASE("a graph output that is not a node", "[diagnostics]") {
  expectError(graphModel("  - {name: out, op: dense, units: 3, input: input}\n",
                         "outt"),
              5, 9, "the output 'outt' is not a node of the graph");
}

TEST_CASE("a graph node the output does not use", "[diagnostics]") {
  expectError(graphModel("  - {name: spare, op: dense, units: 4, input: "
                         "input}\n"
                         "  - {name: out, op: dense, units: 3, input: "
                         "input}\n"),
              4, 5, "node 'spare' does not lead to the output 'out'");
}

TEST_CASE("add with inputs of two shapes names both", "[diagnostics]") {
  expectError(graphModel("  - {name: h2, op: dense, units: 64, input: input}\n"
                         "  - {name: s, op: add, inputs: [h2, input]}\n"
                         "  - {name: out, op: dense, units: 3, input: s}\n"),
              5, 5,
              "'add' needs inputs of one shape, but 'h2' is [B,64] and "
              "'input' is [B,4]");
}

TEST_CASE("concat of inputs that disagree off the axis", "[diagnostics]") {
  expectError(
      "model: g\ninput: [2, 3]\ngraph:\n"
      "  - {name: a, op: dense, units: 3, input: input}\n"
      "  - {name: t, op: flatten, input: a}\n"
      "  - {name: c, op: concat, inputs: [a, input], axis: 0}\n"
      "  - {name: d, op: concat, inputs: [t, input]}\n"
      "  - {name: f, op: flatten, input: c}\n"
      "  - {name: out, op: dense, units: 3, input: d}\n"
      "output: out\nloss: mse\noptimizer: {type: sgd, lr: 0.1}\n",
      7, 5,
      "'concat' along axis 0 needs inputs that agree on every other axis, "
      "but 't' is [B,6] and 'input' is [B,2,3]");
}

// A graph of `concats` concats, each of `inputs` copies of one node.
static std::string concats(int concats, int inputs) {
  std::string text = "  - {name: a, op: dense, units: 3, input: input}\n";
  std::string list = "a";
  for (int i = 1; i < inputs; ++i)
    list += ", a";
  for (int c = 0; c < concats; ++c)
    text += "  - {name: c" + std::to_string(c) + ", op: concat, inputs: [" +
            (c == 0 ? list : "c" + std::to_string(c - 1) + ", " + list) +
            "]}\n";
  return text + "  - {name: out, op: dense, units: 3, input: c" +
         std::to_string(concats - 1) + "}\n";
}

TEST_CASE("a concat of too many inputs", "[diagnostics]") {
  // 256 inputs are taken; 257 are not, at the list.
  CHECK_NOTHROW(gradc::parseModel("m.yaml", graphModel(concats(1, 256))));
  expectError(graphModel(concats(1, 257)), 5, 36,
              "'concat' takes at most 256 'inputs', not 257");

  // Each input counts as a layer: the first concat takes 250, the next
  // ones 251 (the concat before and 250 more), so the fourth passes 1000.
  CHECK_NOTHROW(gradc::parseModel("m.yaml", graphModel(concats(3, 250))));
  expectError(graphModel(concats(4, 250)), 8, 36,
              "the model has more than 1000 layers (a concat's inputs "
              "count as layers)");
}

TEST_CASE("add outside the graph form", "[diagnostics]") {
  expectError(model("[4]", "  - {op: add, inputs: [a, b]}\n"), 4, 10,
              "'add' combines named nodes, so it belongs to the 'graph:' "
              "form");
}

TEST_CASE("a graph node without a name", "[diagnostics]") {
  expectError(graphModel("  - {op: dense, units: 3, input: input}\n"), 4, 5,
              "graph node 0 needs a 'name'");
}

TEST_CASE("a residual pass length out of range", "[diagnostics]") {
  expectError(model("[4]", "  - {op: dense, units: 4}\n") +
                  "passes: {residual: 0}\n",
              9, 20, "'residual' is 0, but it must be between 1 and 1000");
}

TEST_CASE("a residual pass given as true or false", "[diagnostics]") {
  // true asks for the command line's default run of two layers.
  const std::string layers = model("[4]", "  - {op: dense, units: 4}\n");
  const char *const texts[] = {"true", "yes", "false", "no", "3"};
  const int64_t lengths[] = {2, 2, 0, 0, 3};
  for (int i = 0; i < 5; ++i) {
    INFO(texts[i]);
    const gradc::ModelSpec spec = gradc::parseModel(
        "m.yaml", layers + "passes: {residual: " + texts[i] + "}\n");
    CHECK(spec.passes.residual == lengths[i]);
  }
  expectError(layers + "passes: {residual: maybe}\n", 9, 20,
              "'residual' must be");
}

TEST_CASE("the model passes on a graph model", "[diagnostics]") {
  std::string graph = "model: g\n"
                      "input: [4]\n"
                      "graph:\n"
                      "  - {name: out, op: dense, units: 3, input: input}\n"
                      "output: out\n"
                      "loss: softmax_cross_entropy\n"
                      "optimizer: {type: sgd, lr: 0.1}\n";
  gradc::ModelSpec spec =
      gradc::parseModel("g.yaml", graph + "passes: {batchnorm: true}\n");
  try {
    gradc::insertBatchNorm(spec);
    FAIL("the batchnorm pass accepted a graph: model");
  } catch (const UserError &error) {
    CHECK_THAT(error.what(),
               Contains("the batchnorm pass rewrites a chain of 'layers'"));
    CHECK(error.loc.line == 8);
    CHECK(error.loc.column == 21);
  }

  spec = gradc::parseModel("g.yaml", graph + "passes: {residual: 2}\n");
  try {
    gradc::insertResidual(spec);
    FAIL("the residual pass accepted a graph: model");
  } catch (const UserError &error) {
    CHECK_THAT(error.what(),
               Contains("the residual pass rewrites a chain of 'layers'"));
    CHECK(error.loc.line == 8);
  }
}

TEST_CASE("the batchnorm pass leaves the last layer alone", "[diagnostics]") {
  gradc::ModelSpec spec = gradc::parseModel(
      "m.yaml", model("[4]", "  - {op: dense, units: 4, activation: relu}\n") +
                    "passes: {batchnorm: true}\n");
  REQUIRE(gradc::insertBatchNorm(spec));
  REQUIRE(spec.layers.size() == 4);
  CHECK(spec.layers[0].bias == false);
  CHECK(spec.layers[0].activation.empty());
  CHECK(spec.layers[1].name == "layer0.bn");
  CHECK(spec.layers[1].activation == "relu");
  CHECK(spec.layers[3].op == "dense");
  CHECK(spec.layers[3].bias == true);
}
