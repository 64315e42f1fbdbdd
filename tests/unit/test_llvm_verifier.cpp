// Unit tests of the LLVM backend's verifier step: the step it builds for a
// model passes LLVM's verifier, and a node function broken on purpose is
// reported as an internal error that names the node it was built for.
#include "autodiff/Autodiff.h"
#include "codegen/KernelProgram.h"
#include "codegen/llvm/StepBuilder.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"
#include "passes/MemoryPlan.h"

#include <catch2/catch.hpp>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <algorithm>

using namespace gradc;

namespace {

const char *const SmallModel = R"(model: small
input: [5]
layers:
  - {op: dense, units: 6, activation: tanh, name: hidden}
  - {op: dense, units: 3}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.1}
)";

struct Built {
  Graph graph;
  MemoryPlan plan;
};

Built buildSmallModel() {
  Built built{buildForwardGraph(parseModel("small.yaml", SmallModel)), {}};
  differentiate(built.graph);
  built.plan = planMemory(built.graph);
  return built;
}

} // namespace

TEST_CASE("the LLVM step of a small model passes the verifier",
          "[llvm]") {
  Built built = buildSmallModel();
  llvm::LLVMContext context;
  llvm::Module module("small", context);
  std::vector<NodeFunction> nodes =
      buildStepFunctions(module, built.graph, built.plan,
                         lowerToKernels(built.graph), 512);

  // Both element types get a function per statement.
  REQUIRE(nodes.size() >= 10);
  REQUIRE(module.getFunction("trainF32") != nullptr);
  REQUIRE(module.getFunction("forwardF64") != nullptr);
  REQUIRE_NOTHROW(verifyStep(module, built.graph, nodes));
}

TEST_CASE("a broken node function is an internal error naming its node",
          "[llvm]") {
  Built built = buildSmallModel();
  llvm::LLVMContext context;
  llvm::Module module("small", context);
  std::vector<NodeFunction> nodes =
      buildStepFunctions(module, built.graph, built.plan,
                         lowerToKernels(built.graph), 512);

  // The tanh of layer `hidden`: its block loses its terminator.
  auto tanh = std::find_if(nodes.begin(), nodes.end(), [&](auto &entry) {
    return built.graph.node(entry.node).op == OpKind::Tanh;
  });
  REQUIRE(tanh != nodes.end());
  tanh->function->back().getTerminator()->eraseFromParent();

  std::string expected = "graph node %" + std::to_string(tanh->node) +
                         " ('tanh' of layer 'hidden') fails LLVM's verifier";
  try {
    verifyStep(module, built.graph, nodes);
    FAIL("the verifier accepted a block without a terminator");
  } catch (const InternalError &error) {
    std::string message = error.what();
    CHECK(message.find(expected) != std::string::npos);
    CHECK(message.find("terminator") != std::string::npos);
  }
}
