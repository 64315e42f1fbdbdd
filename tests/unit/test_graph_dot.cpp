// Tests of `--emit dot` (compiler/ir/GraphDot.cpp): that the text is a
// well-formed DOT graph with a box per node and an edge per input, and
// that names with quotes, backslashes or line breaks stay inside their
// strings. The golden files of tests/golden/dot check the whole text.
#include "autodiff/Autodiff.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"

#include "text_checks.h"

#include <catch2/catch.hpp>

#include <sstream>

using namespace gradc;

namespace {

const char *const kModel = R"(model: tiny
input: [4]
layers:
  - {op: dense, units: 3, activation: relu}
  - {op: dense, units: 2}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.1}
train: {batch: 2, epochs: 1}
)";

Graph tinyGraph() {
  Graph graph = buildForwardGraph(parseModel("tiny.yaml", kModel));
  differentiate(graph);
  return graph;
}

std::string dotOf(const Graph &graph) {
  std::ostringstream out;
  printGraphDot(graph, out);
  return out.str();
}

// What a reader of the DOT language sees outside strings: the text with
// every string's body removed. Fails the test where a string does not end
// on its line, or where braces do not pair up.
std::string outsideStrings(const std::string &dot) {
  std::string outside;
  bool inString = false;
  int depth = 0;
  for (size_t at = 0; at < dot.size(); ++at) {
    const char c = dot[at];
    if (inString) {
      REQUIRE(c != '\n');
      if (c == '\\')
        ++at;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    depth += c == '{' ? 1 : c == '}' ? -1 : 0;
    REQUIRE(depth >= 0);
    outside += c;
  }
  REQUIRE_FALSE(inString);
  REQUIRE(depth == 0);
  return outside;
}

} // namespace

TEST_CASE("The DOT form has a box per node and an edge per input", "[dot]") {
  const Graph graph = tinyGraph();
  const std::string dot = dotOf(graph);
  const std::string outside = outsideStrings(dot);

  CHECK(dot.rfind("digraph \"tiny\" {\n", 0) == 0);
  size_t edges = 0;
  for (const Node &node : graph.nodes) {
    const std::string box = "  n" + std::to_string(node.id) + " [label=\"";
    CHECK(countOccurrences(dot, box) == 1);
    edges += node.inputs.size();
  }
  CHECK(countOccurrences(outside, "->") == edges);
  for (const char *role : {"forward", "loss", "backward", "update"})
    CHECK(countOccurrences(outside, std::string("subgraph cluster_") + role) ==
          1);

  // The loss is drawn twice outlined, the parameters as ellipses, and each
  // gradient says whose it is.
  CHECK(countOccurrences(dot, "peripheries=2") == 1);
  CHECK(countOccurrences(dot, "shape=ellipse") == graph.params.size());
  for (const Param &param : graph.params)
    CHECK(countOccurrences(dot, "gradient of '" + param.name + "'") == 1);
}

TEST_CASE("The DOT form keeps odd names inside their strings", "[dot]") {
  // The frontend admits only plain names; the printer must not rely on it.
  Graph graph = tinyGraph();
  graph.name = "a\"b\\c";
  graph.params[0].name = "end\" -> evil [label=\"x";
  graph.nodes[graph.params[0].node].layer = "two\nlines\\";

  const std::string dot = dotOf(graph);
  const std::string outside = outsideStrings(dot);
  CHECK(dot.rfind("digraph \"a\\\"b\\\\c\" {\n", 0) == 0);
  CHECK(countOccurrences(outside, "evil") == 0);
  CHECK(countOccurrences(dot, "two?lines\\\\)") == 1);
}
