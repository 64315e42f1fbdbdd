// Tests of the diagnostics of the sequence family: rnn and lstm on an input
// that is not a sequence [steps, features], an embedding that is not the
// first layer or whose input is not [steps] ids, sizes that are not
// positive, a vocabulary beyond what float ids can carry, an unknown
// `return` or rnn activation. Each must end in a UserError that says what
// is wrong and points at the line and column, as test_diagnostics.cpp
// checks for the rest of the language. The valid models at the end check
// that the family's layers reach the graph with PyTorch's parameters.
#include "frontend/Diagnostics.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"

#include <catch2/catch.hpp>

#include "diagnostic_checks.h"

#include <string>

using Catch::Matchers::Contains;
using gradc::UserError;

namespace {

// A valid model whose fourth line is its first layer; each test writes the
// input shape and that line.
std::string withLayer(const std::string &input, const std::string &layer) {
  return "model: m\n"
         "input: " +
         input +
         "\n"
         "layers:\n" +
         layer +
         "\n"
         "  - {op: dense, units: 3}\n"
         "loss: softmax_cross_entropy\n"
         "optimizer: {type: sgd, lr: 0.1}\n";
}

// The 1-based column where `part` first starts in `line`.
int columnOf(const std::string &line, const std::string &part) {
  size_t at = line.find(part);
  REQUIRE(at != std::string::npos);
  return static_cast<int>(at) + 1;
}

const gradc::Param &paramNamed(const gradc::Graph &graph,
                               const std::string &name) {
  for (const gradc::Param &param : graph.params)
    if (param.name == name)
      return param;
  FAIL("no parameter " << name);
  return graph.params.front();
}

bool hasOp(const gradc::Graph &graph, gradc::OpKind op) {
  for (const gradc::Node &node : graph.nodes)
    if (node.op == op)
      return true;
  return false;
}

} // namespace

TEST_CASE("rnn and lstm on an input that is not steps by features",
          "[diagnostics]") {
  // The model input is a flat vector.
  expectError(withLayer("[4]", "  - {op: rnn, hidden: 5}"), 4, 5,
              "'rnn' needs a sequence [steps, features] per sample, but its "
              "input (the model input) is [4]",
              "for 4 steps of one value, write input: [4, 1]");
  // An image-shaped input.
  expectError(withLayer("[1, 28, 28]", "  - {op: lstm, hidden: 5}"), 4, 5,
              "'lstm' needs a sequence [steps, features] per sample, but its "
              "input (the model input) is [1, 28, 28]");

  // A recurrence after a layer that gives a vector: an rnn returning its
  // last state, then another rnn.
  std::string text = withLayer("[6, 2]", "  - {op: rnn, hidden: 5}\n"
                                         "  - {op: lstm, hidden: 3}");
  expectError(text, 5, 5,
              "'lstm' needs a sequence [steps, features] per sample, but its "
              "input (the output of layer 'layer0') is [5]",
              "give layer 'layer0' return: sequence");
}

TEST_CASE("an embedding that is not the first layer", "[diagnostics]") {
  std::string text = withLayer("[6]", "  - {op: dense, units: 4}\n"
                                      "  - {op: embedding, vocab: 10, dim: 3}");
  expectError(text, 5, 5,
              "'embedding' must be the first layer, since it reads integer "
              "ids from the model input, but it follows layer 'layer0'",
              "move the embedding to the top of 'layers'");
}

TEST_CASE("an embedding on an input that is not a list of ids",
          "[diagnostics]") {
  expectError(withLayer("[3, 4]", "  - {op: embedding, vocab: 10, dim: 3}"), 4,
              5,
              "'embedding' reads a sample of integer ids [steps], but the "
              "model input is [3, 4]",
              "input: [12]");
}

TEST_CASE("sequence sizes that are zero or negative", "[diagnostics]") {
  const std::string rnn = "  - {op: rnn, hidden: 0}";
  expectError(withLayer("[4, 2]", rnn), 4, columnOf(rnn, "0}"),
              "'hidden' is 0, but it must be between 1 and");
  const std::string lstm = "  - {op: lstm, hidden: -3}";
  expectError(withLayer("[4, 2]", lstm), 4, columnOf(lstm, "-3"),
              "'hidden' is -3, but it must be between 1 and");
  const std::string vocab = "  - {op: embedding, vocab: 0, dim: 3}";
  expectError(withLayer("[4]", vocab), 4, columnOf(vocab, "0,"),
              "'vocab' is 0, but it must be between 1 and");
  const std::string dim = "  - {op: embedding, vocab: 10, dim: -1}";
  expectError(withLayer("[4]", dim), 4, columnOf(dim, "-1"),
              "'dim' is -1, but it must be between 1 and");
}

TEST_CASE("a vocabulary beyond what float ids can carry", "[diagnostics]") {
  const std::string layer = "  - {op: embedding, vocab: 16777217, dim: 3}";
  expectError(withLayer("[4]", layer), 4, columnOf(layer, "16777217"),
              "'vocab' is 16777217, but ids travel as float32 values, which "
              "are exact integers only up to 2^24 = 16777216",
              "at most 16777216 ids");
  // The largest vocabulary that fits is accepted.
  CHECK_NOTHROW(
      build(withLayer("[4]", "  - {op: embedding, vocab: 16777216, dim: 1}\n"
                             "  - {op: flatten}")));
}

TEST_CASE("a missing sequence size", "[diagnostics]") {
  expectError(withLayer("[4, 2]", "  - {op: lstm}"), 4, 5,
              "layer 0 (lstm) needs 'hidden'");
  expectError(withLayer("[4]", "  - {op: embedding, vocab: 10}"), 4, 5,
              "layer 0 (embedding) needs 'dim'");
}

TEST_CASE("an unknown return word", "[diagnostics]") {
  const std::string close = "  - {op: rnn, hidden: 5, return: sequences}";
  expectError(withLayer("[4, 2]", close), 4, columnOf(close, "sequences"),
              "unknown return 'sequences'", "did you mean 'sequence'?");
  const std::string far = "  - {op: lstm, hidden: 5, return: everything}";
  expectError(withLayer("[4, 2]", far), 4, columnOf(far, "everything"),
              "unknown return 'everything'",
              "return is last (the final hidden state, [hidden]) or "
              "sequence");
}

TEST_CASE("an rnn activation that torch.nn.RNN does not have",
          "[diagnostics]") {
  const std::string typo = "  - {op: rnn, hidden: 5, activation: rleu}";
  expectError(withLayer("[4, 2]", typo), 4, columnOf(typo, "rleu"),
              "unknown rnn activation 'rleu'", "did you mean 'relu'?");
  const std::string other = "  - {op: rnn, hidden: 5, activation: sigmoid}";
  expectError(withLayer("[4, 2]", other), 4, columnOf(other, "sigmoid"),
              "unknown rnn activation 'sigmoid'", "tanh or relu");
}

TEST_CASE("keys that a sequence layer does not have", "[diagnostics]") {
  // An lstm's gates fix its nonlinearities.
  const std::string lstm = "  - {op: lstm, hidden: 5, activation: tanh}";
  expectError(withLayer("[4, 2]", lstm), 4, columnOf(lstm, "activation"),
              "unknown key 'activation' in layer 0 (lstm)");
  const std::string rnn = "  - {op: rnn, hiden: 5}";
  expectError(withLayer("[4, 2]", rnn), 4, columnOf(rnn, "hiden"),
              "unknown key 'hiden' in layer 0 (rnn)", "did you mean 'hidden'?");
}

TEST_CASE("an rnn has PyTorch's parameters and initialization",
          "[diagnostics]") {
  gradc::Graph graph = build(
      withLayer("[7, 2]", "  - {op: rnn, hidden: 5, activation: relu, return: "
                          "sequence}\n  - {op: flatten}"));
  CHECK(paramNamed(graph, "layer0.weight_ih").type.dims ==
        std::vector<int64_t>{5, 2});
  CHECK(paramNamed(graph, "layer0.weight_hh").type.dims ==
        std::vector<int64_t>{5, 5});
  CHECK(paramNamed(graph, "layer0.bias_ih").type.dims ==
        std::vector<int64_t>{5});
  CHECK(paramNamed(graph, "layer0.bias_hh").type.dims ==
        std::vector<int64_t>{5});
  // U(-1/sqrt(H), 1/sqrt(H)) for every tensor, through fan_in = H.
  for (const gradc::Param &param : graph.params)
    if (param.layer == 0) {
      CHECK(param.fanIn == 5);
      CHECK(param.init.kind == gradc::InitKind::Default);
    }
  CHECK(hasOp(graph, gradc::OpKind::RnnReluScan));
  CHECK_FALSE(hasOp(graph, gradc::OpKind::LastStep));
  CHECK(graph.layers[0].output.dims == std::vector<int64_t>{7, 5});
  CHECK(graph.layers[0].detail == "hidden=5 activation=relu return=sequence");
}

TEST_CASE("an lstm has PyTorch's parameters and initialization",
          "[diagnostics]") {
  gradc::Graph graph = build(withLayer("[7, 2]", "  - {op: lstm, hidden: 5}"));
  CHECK(paramNamed(graph, "layer0.weight_ih").type.dims ==
        std::vector<int64_t>{20, 2});
  CHECK(paramNamed(graph, "layer0.weight_hh").type.dims ==
        std::vector<int64_t>{20, 5});
  CHECK(paramNamed(graph, "layer0.bias_ih").type.dims ==
        std::vector<int64_t>{20});
  CHECK(paramNamed(graph, "layer0.bias_hh").type.dims ==
        std::vector<int64_t>{20});
  for (const gradc::Param &param : graph.params)
    if (param.layer == 0)
      CHECK(param.fanIn == 5);
  CHECK(hasOp(graph, gradc::OpKind::LstmScan));
  CHECK(hasOp(graph, gradc::OpKind::LastStep));
  CHECK(graph.layers[0].output.dims == std::vector<int64_t>{5});
  CHECK(graph.layers[0].detail == "hidden=5 return=last");
}

TEST_CASE("an embedding has PyTorch's weight and initialization",
          "[diagnostics]") {
  gradc::Graph graph =
      build(withLayer("[6]", "  - {op: embedding, vocab: 10, dim: 3}\n"
                             "  - {op: flatten}"));
  const gradc::Param &weight = paramNamed(graph, "layer0.weight");
  CHECK(weight.type.dims == std::vector<int64_t>{10, 3});
  CHECK(weight.init.kind == gradc::InitKind::Normal);
  CHECK(weight.init.argument == 1);
  CHECK(graph.layers[0].output.dims == std::vector<int64_t>{6, 3});

  // An explicit init replaces N(0, 1).
  graph = build(withLayer(
      "[6]", "  - {op: embedding, vocab: 10, dim: 3, init: {uniform: 0.1}}\n"
             "  - {op: flatten}"));
  CHECK(paramNamed(graph, "layer0.weight").init.kind ==
        gradc::InitKind::Uniform);
}
