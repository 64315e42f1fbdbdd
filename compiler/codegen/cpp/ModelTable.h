//===- ModelTable.h - The model described as data --------------*- C++ -*-===//
//
// Emits the gradc_model table of runtime/include/gradc/abi.h as C++
// initializers: parameters, layers, shapes, and the training configuration
// from the model file, with every string escaped.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_CPP_MODELTABLE_H
#define GRADC_CODEGEN_CPP_MODELTABLE_H

#include "codegen/cpp/CppEmitter.h"

namespace gradc {

// Emits the tables and gradc_get_model(), which refers to the functions
// forwardF32, trainF32, forwardF64 and trainF64 emitted before it.
std::string emitModelTable(const ModelSpec &spec, const Graph &graph,
                           const MemoryPlan &plan,
                           const EmitOptions &options);

} // namespace gradc

#endif // GRADC_CODEGEN_CPP_MODELTABLE_H
