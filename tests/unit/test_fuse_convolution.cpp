// Tests of the convolution fusion pass (compiler/passes/FuseConvolution.h)
// on differentiated graphs built from model text: what it folds on
// cnn_fashion, and what it must leave alone because another node reads a
// value the fold would stop storing.
#include "autodiff/Autodiff.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"
#include "passes/FuseConvolution.h"
#include "passes/FuseElementwise.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace gradc;

namespace {

Graph differentiated(const std::string &path, const std::string &text) {
  Graph graph = buildForwardGraph(parseModel(path, text));
  differentiate(graph);
  return graph;
}

int64_t countOps(const Graph &graph, OpKind op, const char *attr = nullptr) {
  return std::count_if(
      graph.nodes.begin(), graph.nodes.end(), [&](const Node &node) {
        return node.op == op && (!attr || node.attrs.count(attr) == 1);
      });
}

// Every input of every node comes before it and is a node still there.
bool inputsComeFirst(const Graph &graph) {
  for (const Node &node : graph.nodes)
    for (NodeId input : node.inputs)
      if (input < 0 || input >= node.id)
        return false;
  return true;
}

} // namespace

TEST_CASE("cnn_fashion's biases, relus and relu gradients fold",
          "[fuse_convolution]") {
  const std::string path =
      std::string(GRADC_SOURCE_DIR) + "/models/cnn_fashion.yaml";
  std::ifstream file(path);
  REQUIRE(file);
  std::stringstream text;
  text << file.rdbuf();
  Graph graph = differentiated(path, text.str());
  const size_t before = graph.nodes.size();

  // Per layer: conv2d and channel_bias_add into the relu, the pool's
  // gradient into relu_grad, and the bias gradient onto the pooled
  // gradient, whose pool gradient the convolution's gradients still read.
  CHECK(fuseConvolution(graph) == 8);
  CHECK(graph.nodes.size() == before - 6);
  CHECK(countOps(graph, OpKind::Conv2dBias, "relu") == 2);
  CHECK(countOps(graph, OpKind::MaxPool2dGrad, "positive") == 2);
  CHECK(countOps(graph, OpKind::PositiveChannelSum) == 2);
  CHECK(countOps(graph, OpKind::ChannelSum) == 0);
  CHECK(countOps(graph, OpKind::Conv2d) == 0);
  CHECK(countOps(graph, OpKind::ChannelBiasAdd) == 0);
  // The dense layer's relu and its gradient stay, for the elementwise pass.
  CHECK(countOps(graph, OpKind::Relu) == 1);
  CHECK(countOps(graph, OpKind::ReluGrad) == 1);
  CHECK(inputsComeFirst(graph));
  for (const Param &param : graph.params)
    CHECK(graph.nodes.at(param.grad).role == Role::Backward);

  // Nothing is left to fold, and the elementwise pass still finds its own.
  CHECK(fuseConvolution(graph) == 0);
  CHECK(fuseElementwise(graph) > 0);
}

TEST_CASE("a value another node reads is not folded away",
          "[fuse_convolution]") {
  // The bias add's output is read by the relu and by the add, so the relu
  // stays; the relu's output is read by a pool and by the add, so its
  // gradient is a sum, not the pool's gradient alone. A conv2d without a
  // bias has nothing to fold.
  const std::string text = R"(model: shared
input: [1, 8, 8]
graph:
  - {name: c, op: conv2d, filters: 2, kernel: 3, input: input}
  - {name: r, op: relu, input: c}
  - {name: s, op: add, inputs: [c, r]}
  - {name: p, op: maxpool2d, size: 2, input: r}
  - {name: q, op: maxpool2d, size: 2, input: s}
  - {name: j, op: add, inputs: [p, q]}
  - {name: n, op: conv2d, filters: 2, kernel: 1, bias: false, input: j}
  - {name: f, op: flatten, input: n}
  - {name: out, op: dense, units: 3, input: f}
output: out
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.1}
)";
  Graph graph = differentiated("shared.yaml", text);
  CHECK(fuseConvolution(graph) == 1);
  CHECK(countOps(graph, OpKind::Conv2dBias) == 1);
  CHECK(countOps(graph, OpKind::Conv2dBias, "relu") == 0);
  CHECK(countOps(graph, OpKind::Conv2d) == 1);
  CHECK(countOps(graph, OpKind::Relu) == 1);
  CHECK(countOps(graph, OpKind::ReluGrad) == 1);
  CHECK(countOps(graph, OpKind::MaxPool2dGrad, "positive") == 0);
  CHECK(inputsComeFirst(graph));
}

TEST_CASE("a pooled convolution's bias gradient sums the pooled gradient",
          "[fuse_convolution]") {
  // Without a relu the pool's gradient carries each window's dy whole,
  // so the bias gradient is the pooled gradient's sum. The weight
  // gradient still reads the pool's gradient.
  const std::string text = R"(model: pooled
input: [1, 8, 8]
layers:
  - {op: conv2d, filters: 2, kernel: 3}
  - {op: maxpool2d, size: 2}
  - {op: flatten}
  - {op: dense, units: 3}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.1}
)";
  Graph graph = differentiated("pooled.yaml", text);
  const size_t before = graph.nodes.size();
  CHECK(fuseConvolution(graph) == 2);
  CHECK(graph.nodes.size() == before - 1);
  CHECK(countOps(graph, OpKind::MaxPool2dGrad) == 1);
  CHECK(countOps(graph, OpKind::PositiveChannelSum) == 0);
  REQUIRE(countOps(graph, OpKind::ChannelSum) == 1);
  const Node &sum = graph.nodes.at(graph.params.at(1).grad);
  CHECK(sum.op == OpKind::ChannelSum);
  CHECK(graph.type(sum.inputs.at(0)).dims == std::vector<int64_t>{2, 3, 3});
  CHECK(inputsComeFirst(graph));
}

TEST_CASE("a bias gradient stays on the pool's gradient where the fold "
          "would cost",
          "[fuse_convolution]") {
  // Overlapping windows make the pooled gradient nearly as large as the
  // pool's input; and a pool's output that only the forward pass reads
  // (here by tanh, whose gradient reads its own output) would live on
  // into the backward pass for the sum.
  const char *const layers[] = {
      "  - {op: maxpool2d, size: 2, stride: 1}\n",
      "  - {op: maxpool2d, size: 2}\n  - {op: tanh}\n"};
  for (const char *pool : layers) {
    const std::string text = std::string(R"(model: kept
input: [1, 8, 8]
layers:
  - {op: conv2d, filters: 2, kernel: 3, activation: relu}
)") + pool + R"(  - {op: flatten}
  - {op: dense, units: 3}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.1}
)";
    INFO(text);
    Graph graph = differentiated("kept.yaml", text);
    CHECK(fuseConvolution(graph) == 3);
    CHECK(countOps(graph, OpKind::MaxPool2dGrad, "positive") == 1);
    CHECK(countOps(graph, OpKind::PositiveChannelSum) == 0);
    const Node &sum = graph.nodes.at(graph.params.at(1).grad);
    CHECK(sum.op == OpKind::ChannelSum);
    CHECK(graph.nodes.at(sum.inputs.at(0)).op == OpKind::MaxPool2dGrad);
  }
}
