//===- TableBuilder.h - The model table as LLVM constants -------*- C++ -*-===//
//
// Turns the table of codegen/ModelTable.h into constant globals and
// defines gradc_get_model(). The struct types are spelled field by field
// from the values, and LLVM lays them out by the target's C rules, so
// they match the structs of runtime/include/gradc/abi.h.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_LLVM_TABLEBUILDER_H
#define GRADC_CODEGEN_LLVM_TABLEBUILDER_H

#include "codegen/ModelTable.h"

#include <llvm/IR/Module.h>

namespace gradc {

// The entry points named in the table must already be in `module`.
void defineModelTable(llvm::Module &module,
                      const std::vector<TableGlobal> &table);

} // namespace gradc

#endif // GRADC_CODEGEN_LLVM_TABLEBUILDER_H
