//===- Toolchain.h - Build a trainer with the system compiler --*- C++ -*-===//
//
// Compiles generated C++ with the system's C++ compiler and links it with
// the runtime library. The runtime is looked for next to the gradc binary
// first (an installed tree: bin/gradc, include/gradc, lib/gradc, with
// the library folder CMake chose at install time), then in
// the build tree gradc was built in.
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

// Compiles `source` into the executable `output`. The executable appears
// whole or not at all: it is linked under a temporary name and renamed.
// A failing compiler is an internal error that shows its output.
void buildTrainer(const std::string &source, const std::string &output,
                  const BuildOptions &options);

} // namespace gradc

#endif // GRADC_CODEGEN_TOOLCHAIN_H
