//===- Toolchain.h - Build a trainer with the system compiler --*- C++ -*-===//
//
// Compiles generated C++ with the system's C++ compiler and links it with
// the runtime library, or links an object from the LLVM backend. The
// runtime is looked for next to the gradc binary first (an installed tree:
// bin/gradc, include/gradc, lib/gradc, with the library folder CMake chose
// at install time), then in the build tree gradc was built in.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_TOOLCHAIN_H
#define GRADC_CODEGEN_TOOLCHAIN_H

#include <string>
#include <vector>

namespace gradc {

struct RuntimeLocation {
  std::string includeDir; // holds gradc/abi.h and gradc/kernels.h
  std::string library;    // libgradc_runtime.a
};

// Finds the runtime; throws InternalError naming the places it looked.
RuntimeLocation findRuntime();

struct BuildOptions {
  int optLevel = 2;          // gradc's -O level
  std::string target = "native";
  bool verbose = false;
};

// The flags the C++ compiler gets for a gradc target and -O level.
std::vector<std::string> targetFlags(const BuildOptions &options);

// The flag that compiles and links OpenMP, with which the kernels split
// their loops over threads; without it they run on one thread.
inline constexpr const char *kOpenMPFlag = "-fopenmp";

// What linking a trainer needs after its own sources or objects: the
// runtime library, OpenMP's runtime (libgomp) and the runtime's own
// dependencies, in link order.
std::vector<std::string> linkFlags(const RuntimeLocation &runtime);

// Compiles `source` into the executable `output`. The executable appears
// whole or not at all: it is linked under a temporary name and renamed.
// A failing compiler is an internal error that shows its output.
void buildTrainer(const std::string &source, const std::string &output,
                  const BuildOptions &options);

// The precompiled kernels for a gradc target, next to the runtime library.
std::string kernelsLibrary(const RuntimeLocation &runtime,
                           const std::string &target);

// Links an object file from the LLVM backend with the target's
// precompiled kernels and the runtime, with the same guarantees as
// buildTrainer(). The C++ compiler only drives the linker here.
void linkTrainer(const std::string &object, const std::string &output,
                 const BuildOptions &options);

} // namespace gradc

#endif // GRADC_CODEGEN_TOOLCHAIN_H
