// Tests of the diagnostics of the convolutional family: a conv2d or pool
// on an input that is not [C, H, W], a window larger than its (padded)
// input, non-positive sizes, an unknown or negative padding, and unfolded
// inputs too large to allocate. Each must end in a UserError that says
// what is wrong and points at the line and column, as test_diagnostics.cpp
// checks for the rest of the language. The valid models at the end check
// the shapes, padding and initialization the family's layers get.
#include "frontend/Diagnostics.h"
#include "frontend/Parser.h"
#include "ir/ConvOps.h"
#include "ir/GraphBuilder.h"

#include <catch2/catch.hpp>

#include "diagnostic_checks.h"

#include <string>
#include <vector>

using Catch::Matchers::Contains;
using gradc::UserError;

namespace {

// A model whose layers (line 4 on) are `layers`, followed by flatten and
// a dense layer, on samples of shape `input`.
std::string withLayers(const std::string &input,
                       const std::vector<std::string> &layers) {
  std::string text = "model: m\n"
                     "input: " +
                     input +
                     "\n"
                     "layers:\n";
  for (const std::string &layer : layers)
    text += layer + "\n";
  return text + "  - {op: flatten}\n"
                "  - {op: dense, units: 3}\n"
                "loss: softmax_cross_entropy\n"
                "optimizer: {type: sgd, lr: 0.1}\n";
}

// The 1-based column where the value of `key` starts in `line`.
int valueColumn(const std::string &line, const std::string &key) {
  size_t at = line.find(key + ": ");
  REQUIRE(at != std::string::npos);
  return static_cast<int>(at + key.size() + 2) + 1;
}

// The first node of op `op`.
const gradc::Node &firstNode(const gradc::Graph &graph, gradc::OpKind op) {
  for (const gradc::Node &node : graph.nodes)
    if (node.op == op)
      return node;
  FAIL("no node of op " << gradc::opName(op));
  return graph.nodes.front();
}

} // namespace

TEST_CASE("a conv2d or pool whose input is not C, H, W", "[diagnostics]") {
  const char *hint = "flatten comes after the convolutional and pooling";
  // A flat input, as an MLP's.
  expectError(withLayers("[784]", {"  - {op: conv2d, filters: 4, kernel: 3}"}),
              4, 5,
              "conv2d needs an input of shape [channels, height, width], but "
              "its input (the model input) is [B,784]",
              hint);
  // An input whose channel axis is missing.
  expectError(withLayers("[28, 28]", {"  - {op: maxpool2d, size: 2}"}), 4, 5,
              "maxpool2d needs an input of shape [channels, height, width], "
              "but its input (the model input) is [B,28,28]",
              "such as input: [1, 28, 28]");
  // After a flatten.
  expectError(withLayers("[1, 6, 6]",
                         {"  - {op: conv2d, filters: 2, kernel: 3}",
                          "  - {op: flatten}", "  - {op: avgpool2d, size: 2}"}),
              6, 5,
              "avgpool2d needs an input of shape [channels, height, width], "
              "but its input (the output of layer 'layer1') is [B,32]",
              hint);
  // A dense layer applies to the last axis and keeps the rank, so a
  // conv2d after it is fine: [1, 6, 6] becomes [1, 6, 5].
  CHECK_NOTHROW(build(
      withLayers("[1, 6, 6]", {"  - {op: dense, units: 5}",
                               "  - {op: conv2d, filters: 2, kernel: 3}"})));
}

TEST_CASE("a window larger than its input", "[diagnostics]") {
  std::string line = "  - {op: conv2d, filters: 4, kernel: 5}";
  expectError(withLayers("[1, 4, 6]", {line}), 4, valueColumn(line, "kernel"),
              "kernel 5 is larger than the input of layer 'layer0', which is "
              "4x6",
              "use a smaller kernel or more padding");

  // Padding counts: 3x3 padded by 1 is 5x5, which a 5x5 kernel fits but
  // a 6x6 kernel does not.
  line = "  - {op: conv2d, filters: 4, kernel: 6, padding: 1, name: c}";
  expectError(withLayers("[2, 3, 3]", {line}), 4, valueColumn(line, "kernel"),
              "kernel 6 is larger than the input of layer 'c', which is 3x3 "
              "(5x5 with padding)");
  gradc::Graph graph = build(withLayers(
      "[2, 3, 3]", {"  - {op: conv2d, filters: 4, kernel: 5, padding: 1}"}));
  CHECK(firstNode(graph, gradc::OpKind::Conv2d).type.str() == "[B,4,1,1]");

  // `same` pads as much as the window needs, so any kernel fits.
  graph = build(withLayers(
      "[1, 2, 3]", {"  - {op: conv2d, filters: 1, kernel: 7, padding: same}"}));
  CHECK(firstNode(graph, gradc::OpKind::Conv2d).type.str() == "[B,1,2,3]");

  // A pool after the input has shrunk.
  line = "  - {op: maxpool2d, size: 4}";
  expectError(withLayers("[1, 5, 5]",
                         {"  - {op: conv2d, filters: 2, kernel: 3}", line}),
              5, valueColumn(line, "size"),
              "pool size 4 is larger than the input of layer 'layer1', which "
              "is 3x3",
              "use a smaller size");
  line = "  - {op: avgpool2d, size: 3, stride: 1}";
  expectError(withLayers("[1, 2, 8]", {line}), 4, valueColumn(line, "size"),
              "pool size 3 is larger than the input of layer 'layer0', which "
              "is 2x8");
}

TEST_CASE("a non-positive filters, kernel, stride or size", "[diagnostics]") {
  struct Case {
    std::string line;
    std::string key;
    std::string message;
  };
  const Case cases[] = {
      {"  - {op: conv2d, filters: 0, kernel: 3}", "filters",
       "'filters' is 0, but it must be between 1 and 2147483648"},
      {"  - {op: conv2d, filters: 4, kernel: -3}", "kernel",
       "'kernel' is -3, but it must be between 1 and"},
      {"  - {op: conv2d, filters: 4, kernel: 3, stride: 0}", "stride",
       "'stride' is 0, but it must be between 1 and"},
      {"  - {op: maxpool2d, size: 0}", "size",
       "'size' is 0, but it must be between 1 and"},
      {"  - {op: avgpool2d, size: 2, stride: -1}", "stride",
       "'stride' is -1, but it must be between 1 and"},
      {"  - {op: conv2d, filters: 4, kernel: 2.5}", "kernel",
       "'kernel' must be an integer, not '2.5'"},
  };
  for (const Case &c : cases) {
    INFO(c.line);
    expectError(withLayers("[1, 6, 6]", {c.line}), 4,
                valueColumn(c.line, c.key), c.message);
  }

  expectError(withLayers("[1, 6, 6]", {"  - {op: conv2d, kernel: 3}"}), 4, 5,
              "layer 0 (conv2d) needs 'filters'");
  expectError(withLayers("[1, 6, 6]", {"  - {op: maxpool2d, stride: 2}"}), 4, 5,
              "layer 0 (maxpool2d) needs 'size'");
  expectError(
      withLayers("[1, 6, 6]", {"  - {op: conv2d, filters: 4, kernel_size: 3}"}),
      4, 30, "unknown key 'kernel_size' in layer 0 (conv2d)");
  expectError(withLayers("[1, 6, 6]", {"  - {op: maxpool2d, size: 2, "
                                       "padding: 1}"}),
              4, 30, "unknown key 'padding' in layer 0 (maxpool2d)");
}

TEST_CASE("an unknown or negative padding", "[diagnostics]") {
  std::string line = "  - {op: conv2d, filters: 4, kernel: 3, padding: sme}";
  expectError(withLayers("[1, 6, 6]", {line}), 4, valueColumn(line, "padding"),
              "unknown padding 'sme'", "did you mean 'same'?");
  line = "  - {op: conv2d, filters: 4, kernel: 3, padding: vaild}";
  expectError(withLayers("[1, 6, 6]", {line}), 4, valueColumn(line, "padding"),
              "unknown padding 'vaild'", "did you mean 'valid'?");
  line = "  - {op: conv2d, filters: 4, kernel: 3, padding: full}";
  expectError(withLayers("[1, 6, 6]", {line}), 4, valueColumn(line, "padding"),
              "unknown padding 'full'",
              "padding is valid, same, or the number of zeros");

  line = "  - {op: conv2d, filters: 4, kernel: 3, padding: -1}";
  expectError(withLayers("[1, 6, 6]", {line}), 4, valueColumn(line, "padding"),
              "padding -1 is negative", "0 or more");
  line = "  - {op: conv2d, filters: 4, kernel: 3, padding: 1.5}";
  expectError(withLayers("[1, 6, 6]", {line}), 4, valueColumn(line, "padding"),
              "'padding' must be an integer, not '1.5'");
  line = "  - {op: conv2d, filters: 4, kernel: 3, padding: [1, 2]}";
  expectError(withLayers("[1, 6, 6]", {line}), 4, valueColumn(line, "padding"),
              "'padding' must be valid, same or a number");
}

TEST_CASE("conv2d tensors too large to allocate", "[diagnostics]") {
  // Padding alone can make an output absurd.
  expectError(withLayers("[1, 4, 4]", {"  - {op: conv2d, filters: 2, kernel: "
                                       "1, padding: 100000}"}),
              4, 5,
              "the output of layer 'layer0' would have 2,560,102,401,024 "
              "elements");
  // The kernels unfold one sample into a [C*k*k, OH*OW] matrix: 64 * 31 *
  // 31 rows of 482 * 482 positions here, although every tensor the model
  // names is small enough.
  expectError(withLayers("[64, 512, 512]",
                         {"  - {op: conv2d, filters: 1, kernel: 31}"}),
              4, 5,
              "the unfolded input of layer 'layer0' would have "
              "14,288,855,296 elements");
}

TEST_CASE("conv2d and pools get their shapes, padding and init",
          "[diagnostics]") {
  using gradc::OpKind;
  gradc::Graph graph = build(withLayers(
      "[3, 7, 6]",
      {"  - {op: conv2d, filters: 8, kernel: 4, stride: 2, padding: same, "
       "activation: relu}",
       "  - {op: maxpool2d, size: 2, stride: 1}",
       "  - {op: avgpool2d, size: 2}"}));

  // Keras's `same` at stride 2: ceil(7/2) = 4 rows need 3 rows of zeros,
  // the odd one at the bottom; ceil(6/2) = 3 columns need 2, one on each
  // side.
  const gradc::Node &conv = firstNode(graph, OpKind::Conv2d);
  CHECK(conv.type.str() == "[B,8,4,3]");
  gradc::ConvGeometry geometry = gradc::convGeometry(graph, conv);
  CHECK(geometry.padding.top == 1);
  CHECK(geometry.padding.bottom == 2);
  CHECK(geometry.padding.left == 1);
  CHECK(geometry.padding.right == 1);
  CHECK(geometry.kernel == 4);
  CHECK(geometry.stride == 2);

  // A pool's stride is its size unless given.
  CHECK(firstNode(graph, OpKind::MaxPool2d).type.str() == "[B,8,3,2]");
  CHECK(firstNode(graph, OpKind::AvgPool2d).type.str() == "[B,8,1,1]");
  CHECK(firstNode(graph, OpKind::AvgPool2d).attrs.at("stride") == 2);

  // PyTorch's names, layouts and default init bound, 1/sqrt(in_ch*k*k),
  // for weight and bias alike.
  REQUIRE(graph.params.size() == 4);
  CHECK(graph.params[0].name == "layer0.weight");
  CHECK(graph.params[0].type.str() == "[8,3,4,4]");
  CHECK(graph.params[0].fanIn == 3 * 4 * 4);
  CHECK(graph.params[0].fanOut == 8 * 4 * 4);
  CHECK(graph.params[1].name == "layer0.bias");
  CHECK(graph.params[1].type.str() == "[8]");
  CHECK(graph.params[1].fanIn == 3 * 4 * 4);
  CHECK(graph.layers[0].detail ==
        "filters=8 kernel=4 stride=2 padding=same activation=relu");
  CHECK(graph.layers[1].detail == "size=2 stride=1");

  // Without bias the layer has its weight alone.
  graph = build(withLayers(
      "[1, 5, 5]",
      {"  - {op: conv2d, filters: 2, kernel: 3, padding: 1, bias: false}"}));
  CHECK(graph.params.size() == 3);
  CHECK(firstNode(graph, OpKind::Conv2d).type.str() == "[B,2,5,5]");
  CHECK(graph.layers[0].detail ==
        "filters=2 kernel=3 stride=1 padding=1 bias=false");
}
