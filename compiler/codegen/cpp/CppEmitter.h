//===- CppEmitter.h - Graph to C++ source ----------------------*- C++ -*-===//
//
// The C++ backend: prints a planned graph as one C++ translation unit that
// defines gradc_get_model() (see runtime/include/gradc/abi.h). The code is
// a template over the scalar type, instantiated for float (training) and
// double (gradient checks).
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_CPP_CPPEMITTER_H
#define GRADC_CODEGEN_CPP_CPPEMITTER_H

#include "codegen/ModelTable.h"

#include <string>

namespace gradc {

std::string emitCpp(const ModelSpec &spec, const Graph &graph,
                    const MemoryPlan &plan, const EmitOptions &options);

// A C string literal for any bytes: everything but letters, digits and a
// few safe punctuation marks is written as a three-digit octal escape, so
// no name or path from a model file can end the literal early.
std::string cStringLiteral(const std::string &text);

} // namespace gradc

#endif // GRADC_CODEGEN_CPP_CPPEMITTER_H
