// Unit tests of the memory plan on the graphs the driver builds for real
// models: workspace buffers that are live at the same time never share
// memory, at any batch; no node writes over its own inputs; the arena stays
// within 1.25 times the lower bound on mlp_fashion; and sharing makes the
// arena smaller than all the buffers side by side. Liveness is worked out
// here again from the graph alone, not taken from the planner.
#include "autodiff/Autodiff.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"
#include "passes/InsertBatchNorm.h"
#include "passes/InsertResidual.h"
#include "passes/MemoryPlan.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace gradc;

namespace {

const std::string SourceDir = GRADC_SOURCE_DIR;

struct Planned {
  Graph graph;
  MemoryPlan plan;
};

// Builds a model file as the driver does: parse, the model passes, the
// forward graph, autodiff, the memory plan. `dropData` leaves out the
// file's data: section, for models whose data a test fixture makes.
Planned planModel(const std::string &relative, bool dropData = false) {
  const std::string path = SourceDir + "/" + relative;
  std::ifstream file(path);
  REQUIRE(file);
  std::string text, line;
  bool inData = false;
  while (std::getline(file, line)) {
    if (dropData && !line.empty() && line[0] != ' ' && line[0] != '#')
      inData = line.starts_with("data:");
    if (!inData)
      text += line + "\n";
  }
  ModelSpec spec = parseModel(path, text);
  insertBatchNorm(spec);
  insertResidual(spec);
  Planned planned{buildForwardGraph(spec), {}};
  differentiate(planned.graph);
  planned.plan = planMemory(planned.graph);
  return planned;
}

NodeId memoryOf(const MemoryPlan &plan, NodeId id) {
  while (plan.storage[id].kind == StorageKind::Alias)
    id = plan.storage[id].aliasOf;
  return id;
}

// A workspace buffer, live over the node positions [first, last].
struct Live {
  NodeId node;
  int first;
  int last;
};

// From the node that writes each workspace buffer to the last that reads
// it, through aliases; the output is read where the loss section begins,
// when the step copies it out.
std::vector<Live> liveIntervals(const Graph &graph, const MemoryPlan &plan) {
  const int count = static_cast<int>(graph.nodes.size());
  std::vector<int> last(graph.nodes.size());
  for (int i = 0; i < count; ++i)
    last[i] = i;
  int firstLoss = count - 1;
  for (int i = count - 1; i >= 0; --i)
    if (graph.nodes[i].role == Role::Loss)
      firstLoss = i;
  for (int i = 0; i < count; ++i)
    for (NodeId input : graph.nodes[i].inputs) {
      NodeId memory = memoryOf(plan, input);
      last[memory] = std::max(last[memory], i);
    }
  NodeId output = memoryOf(plan, graph.output);
  last[output] = std::max(last[output], firstLoss);

  std::vector<Live> live;
  for (int i = 0; i < count; ++i)
    if (plan.storage[i].kind == StorageKind::Workspace)
      live.push_back({i, i, last[i]});
  return live;
}

// A buffer's elements in the arena at batch B: [begin, end).
std::pair<int64_t, int64_t> rangeAt(const Graph &graph, const MemoryPlan &plan,
                                    NodeId id, int64_t batch) {
  const Storage &storage = plan.storage[id];
  const TensorType &type = graph.type(id);
  const int64_t begin = storage.perSample * batch + storage.fixed;
  return {begin, begin + type.elements() * (type.batched ? batch : 1)};
}

// The most elements live at once at batch B.
int64_t mostLive(const Graph &graph, const std::vector<Live> &live,
                 int64_t batch) {
  int64_t most = 0;
  for (size_t at = 0; at < graph.nodes.size(); ++at) {
    int64_t total = 0;
    for (const Live &buffer : live)
      if (buffer.first <= static_cast<int>(at) &&
          static_cast<int>(at) <= buffer.last) {
        const TensorType &type = graph.type(buffer.node);
        total += type.elements() * (type.batched ? batch : 1);
      }
    most = std::max(most, total);
  }
  return most;
}

void checkPlan(const Planned &planned) {
  const Graph &graph = planned.graph;
  const MemoryPlan &plan = planned.plan;
  const std::vector<Live> live = liveIntervals(graph, plan);
  REQUIRE(!live.empty());

  for (int64_t batch : {1, 3, 64, 1000}) {
    INFO("model " << graph.name << ", batch " << batch);
    const int64_t arena = workspaceElements(plan, batch);
    for (const Live &buffer : live) {
      auto [begin, end] = rangeAt(graph, plan, buffer.node, batch);
      INFO("node %" << buffer.node);
      CHECK(begin >= 0);
      CHECK(end <= arena);
      CHECK(begin % 16 == 0);
    }
    for (size_t i = 0; i < live.size(); ++i)
      for (size_t j = i + 1; j < live.size(); ++j) {
        const Live &a = live[i], &b = live[j];
        if (a.last < b.first || b.last < a.first)
          continue;
        auto [aBegin, aEnd] = rangeAt(graph, plan, a.node, batch);
        auto [bBegin, bEnd] = rangeAt(graph, plan, b.node, batch);
        INFO("nodes %" << a.node << " and %" << b.node);
        CHECK((aEnd <= aBegin || bEnd <= bBegin || aEnd <= bBegin ||
               bEnd <= aBegin));
      }

    // No node writes its output over one of its inputs.
    for (const Node &node : graph.nodes) {
      if (plan.storage[node.id].kind != StorageKind::Workspace)
        continue;
      auto [yBegin, yEnd] = rangeAt(graph, plan, node.id, batch);
      for (NodeId input : node.inputs) {
        NodeId memory = memoryOf(plan, input);
        if (plan.storage[memory].kind != StorageKind::Workspace)
          continue;
        auto [xBegin, xEnd] = rangeAt(graph, plan, memory, batch);
        INFO("node %" << node.id << " and its input %" << input);
        CHECK((yEnd <= xBegin || xEnd <= yBegin));
      }
    }

    // The bound the model table carries is the most live at once.
    CHECK(workspaceLowerBound(plan, batch) == mostLive(graph, live, batch));
    CHECK(workspaceLowerBound(plan, batch) <= arena);
  }
}

} // namespace

TEST_CASE("memory plan never overlaps buffers live at the same time",
          "[memory_plan]") {
  checkPlan(planModel("models/mlp_fashion.yaml"));
  checkPlan(planModel("models/cnn_fashion.yaml"));
  checkPlan(planModel("models/residual_mlp_fashion.yaml"));
  checkPlan(planModel("models/autoencoder_fashion.yaml"));
  checkPlan(planModel("models/deep_sigmoid.yaml"));
  checkPlan(planModel("models/lstm_adding.yaml", true));
  checkPlan(planModel("models/rnn_adding.yaml", true));
  checkPlan(planModel("tests/golden/passes/chain_both.yaml"));
}

TEST_CASE("memory plan of mlp_fashion is within 1.25 times its lower bound",
          "[memory_plan]") {
  const Planned planned = planModel("models/mlp_fashion.yaml");
  for (int64_t batch : {1, 64, 256}) {
    INFO("batch " << batch);
    const int64_t bound = workspaceLowerBound(planned.plan, batch);
    REQUIRE(bound > 0);
    CHECK(workspaceElements(planned.plan, batch) * 4 <= bound * 5);
  }
}

TEST_CASE("memory plan shares memory: smaller than every buffer together",
          "[memory_plan]") {
  for (const char *model : {"models/mlp_fashion.yaml",
                            "models/cnn_fashion.yaml"}) {
    const Planned planned = planModel(model);
    const int64_t batch = 64;
    int64_t everyBuffer = 0;
    for (const Node &node : planned.graph.nodes)
      if (planned.plan.storage[node.id].kind == StorageKind::Workspace)
        everyBuffer += node.type.elements() * (node.type.batched ? batch : 1);
    INFO(model);
    CHECK(workspaceElements(planned.plan, batch) < everyBuffer);
    CHECK(workspaceElements(planned.plan, batch) * 3 < everyBuffer * 2);
  }
}
