//===- LlvmBackend.cpp - Graph to LLVM IR and object code -----------------===//
//
// The phases, in order: choose the target machine; build the step and the
// model table as IR; verify every function; run the -O pipeline; emit the
// object. gradc's targets map onto LLVM CPUs the way the C++ backend maps
// them onto -march, and every function asks for the target's full vector
// width, since LLVM otherwise keeps AVX-512 machines at 256 bits.
//
//===----------------------------------------------------------------------===//
#include "codegen/llvm/LlvmBackend.h"

#include "codegen/KernelProgram.h"
#include "codegen/llvm/StepBuilder.h"
#include "codegen/llvm/TableBuilder.h"

#include <llvm/Analysis/TargetTransformInfo.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <memory>

namespace gradc {

using namespace llvm;

namespace {

struct TargetChoice {
  std::string cpu;
  std::string features;
};

// gradc's --target as an LLVM CPU and feature string; the C++ backend's
// -march for the same name is in codegen/Toolchain.cpp.
TargetChoice chooseTarget(const std::string &target) {
  if (target == "native") {
    std::string features;
    for (const auto &feature : sys::getHostCPUFeatures())
      features += std::string(feature.getValue() ? "+" : "-") +
                  feature.getKey().str() + ",";
    if (!features.empty())
      features.pop_back();
    return {sys::getHostCPUName().str(), features};
  }
  if (target == "avx2")
    return {"haswell", ""};
  if (target == "avx512")
    return {"skylake-avx512", ""};
  return {"x86-64", ""};
}

std::unique_ptr<TargetMachine> createTargetMachine(const TargetChoice &choice,
                                                   int optLevel) {
  InitializeNativeTarget();
  InitializeNativeTargetAsmPrinter();

  std::string triple = sys::getProcessTriple();
  std::string error;
  const Target *target = TargetRegistry::lookupTarget(triple, error);
  if (!target)
    throw InternalError("LLVM has no target for " + triple + ": " + error);

  CodeGenOptLevel level = optLevel == 0   ? CodeGenOptLevel::None
                          : optLevel == 1 ? CodeGenOptLevel::Less
                          : optLevel == 2 ? CodeGenOptLevel::Default
                                          : CodeGenOptLevel::Aggressive;
  std::unique_ptr<TargetMachine> machine(target->createTargetMachine(
      triple, choice.cpu, choice.features, TargetOptions(), Reloc::PIC_,
      std::nullopt, level));
  if (!machine)
    throw InternalError("LLVM cannot make a target machine for " + triple +
                        " (" + choice.cpu + ")");
  return machine;
}

// The attributes that make the optimizer and code generator use the
// chosen CPU's instructions, at the full width of its vector registers.
void setTargetAttributes(Function &function, const TargetChoice &choice) {
  function.addFnAttr("target-cpu", choice.cpu);
  if (!choice.features.empty())
    function.addFnAttr("target-features", choice.features);
  function.addFnAttr("prefer-vector-width", "512");
}

// The vector register width the target machine offers for `choice`, in
// bits: asked of the target's cost model through a throwaway function.
unsigned vectorRegisterBits(TargetMachine &machine,
                            const TargetChoice &choice) {
  LLVMContext context;
  Module probe("probe", context);
  Function *function = Function::Create(
      FunctionType::get(Type::getVoidTy(context), false),
      GlobalValue::ExternalLinkage, "probe", probe);
  setTargetAttributes(*function, choice);
  TargetTransformInfo info = machine.getTargetTransformInfo(*function);
  unsigned bits =
      info.getRegisterBitWidth(TargetTransformInfo::RGK_FixedWidthVector)
          .getFixedValue();
  return bits >= 128 ? bits : 128;
}

void optimize(Module &module, TargetMachine &machine, int optLevel) {
  LoopAnalysisManager loops;
  FunctionAnalysisManager functions;
  CGSCCAnalysisManager sccs;
  ModuleAnalysisManager modules;
  PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(sccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, sccs, modules);

  OptimizationLevel level = optLevel == 0   ? OptimizationLevel::O0
                            : optLevel == 1 ? OptimizationLevel::O1
                            : optLevel == 2 ? OptimizationLevel::O2
                                            : OptimizationLevel::O3;
  ModulePassManager passes =
      optLevel == 0 ? builder.buildO0DefaultPipeline(level)
                    : builder.buildPerModuleDefaultPipeline(level);
  passes.run(module, modules);
}

std::string emitObject(Module &module, TargetMachine &machine) {
  SmallVector<char, 0> buffer;
  raw_svector_ostream out(buffer);
  legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, out, nullptr,
                                  CodeGenFileType::ObjectFile))
    throw InternalError("LLVM cannot emit an object file for this target");
  passes.run(module);
  return std::string(buffer.begin(), buffer.end());
}

} // namespace

LlvmResult compileWithLlvm(const ModelSpec &spec, const Graph &graph,
                           const MemoryPlan &plan, const LlvmOptions &options,
                           bool wantIr, bool wantObject) {
  auto phaseDone = [&](const char *phase) {
    if (options.phaseDone)
      options.phaseDone(phase);
  };

  TargetChoice choice = chooseTarget(options.emit.target);
  std::unique_ptr<TargetMachine> machine =
      createTargetMachine(choice, options.optLevel);

  LLVMContext context;
  Module module(graph.name, context);
  module.setTargetTriple(machine->getTargetTriple().str());
  module.setDataLayout(machine->createDataLayout());

  KernelProgram program = lowerToKernels(graph);
  std::vector<NodeFunction> nodes = buildStepFunctions(
      module, graph, plan, program, vectorRegisterBits(*machine, choice));
  defineModelTable(module, buildModelTable(spec, graph, plan, options.emit));
  for (Function &function : module)
    if (!function.isDeclaration())
      setTargetAttributes(function, choice);
  verifyStep(module, graph, nodes);
  phaseDone("codegen");

  optimize(module, *machine, options.optLevel);
  phaseDone("llvm optimization");

  LlvmResult result;
  if (wantIr) {
    raw_string_ostream out(result.ir);
    module.print(out, nullptr);
  }
  if (wantObject) {
    result.object = emitObject(module, *machine);
    phaseDone("object emission");
  }
  return result;
}

} // namespace gradc
