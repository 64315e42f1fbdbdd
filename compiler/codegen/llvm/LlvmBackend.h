//===- LlvmBackend.h - Graph to LLVM IR and object code ---------*- C++ -*-===//
//
// The LLVM backend: builds the kernel program of codegen/KernelProgram.h
// as LLVM IR in-process, verifies it, optimizes it with LLVM's new pass
// manager for the chosen target, and emits an object file that defines
// gradc_get_model(). Products, convolutions, recurrences and losses are
// calls into the precompiled kernels of gradc/kernel_exports.h; the
// elementwise work is built here as explicit vector loops as wide as the
// target's registers.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_LLVM_LLVMBACKEND_H
#define GRADC_CODEGEN_LLVM_LLVMBACKEND_H

#include "codegen/ModelTable.h"

#include <functional>
#include <string>

namespace gradc {

struct LlvmOptions {
  int optLevel = 2;
  EmitOptions emit; // target and the passes applied, for the table
  // Called after each phase with its name, so the driver can time them:
  // "codegen", "llvm optimization", "object emission".
  std::function<void(const char *)> phaseDone;
};

struct LlvmResult {
  std::string ir;     // the optimized module as text, when asked for
  std::string object; // the object file's bytes, when asked for
};

// Builds, verifies and optimizes the module; returns its text when
// `wantIr`, its object code when `wantObject`. A module that fails LLVM's
// verifier is an InternalError naming the graph node whose code is wrong.
LlvmResult compileWithLlvm(const ModelSpec &spec, const Graph &graph,
                           const MemoryPlan &plan, const LlvmOptions &options,
                           bool wantIr, bool wantObject);

} // namespace gradc

#endif // GRADC_CODEGEN_LLVM_LLVMBACKEND_H
