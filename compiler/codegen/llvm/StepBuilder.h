//===- StepBuilder.h - The training step as LLVM IR -------------*- C++ -*-===//
//
// Builds the four entry points of gradc_model (forward and train step, in
// float and double) from a kernel program. Each statement becomes an
// internal function of its own, so that the verifier can say which graph
// node a broken function came from, and the optimizer's time stays
// linear in the number of nodes.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_LLVM_STEPBUILDER_H
#define GRADC_CODEGEN_LLVM_STEPBUILDER_H

#include "codegen/KernelProgram.h"
#include "passes/MemoryPlan.h"

#include <llvm/IR/Module.h>

#include <vector>

namespace gradc {

// The graph node each generated function computes.
struct NodeFunction {
  llvm::Function *function;
  NodeId node;
};

// Adds forwardF32, trainF32, forwardF64 and trainF64 to `module`.
// `vectorBits` is the width of the target's vector registers.
std::vector<NodeFunction> buildStepFunctions(llvm::Module &module,
                                             const Graph &graph,
                                             const MemoryPlan &plan,
                                             const KernelProgram &program,
                                             unsigned vectorBits);

// Runs LLVM's verifier on each node's function, then on the module. A
// failure is an InternalError naming the graph node (its id, op and
// layer) whose code is wrong, with the verifier's message.
void verifyStep(const llvm::Module &module, const Graph &graph,
                const std::vector<NodeFunction> &nodes);

} // namespace gradc

#endif // GRADC_CODEGEN_LLVM_STEPBUILDER_H
