//===- ModelTable.h - The model described as data --------------*- C++ -*-===//
//
// The gradc_model table of runtime/include/gradc/abi.h as a tree of plain
// values: parameters, layers, shapes, and the training configuration from
// the model file. Both backends print the same tree, the C++ backend as
// aggregate initializers and the LLVM backend as constant globals, so the
// two cannot disagree about what a field holds. The tree's field order is
// the struct's; a change to abi.h is made here once.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_MODELTABLE_H
#define GRADC_CODEGEN_MODELTABLE_H

#include "frontend/ModelSpec.h"
#include "ir/Graph.h"
#include "passes/MemoryPlan.h"

#include <string>
#include <vector>

namespace gradc {

struct EmitOptions {
  std::string backend = "cpp";
  std::string target = "native";
  std::string passes; // applied passes, comma separated
};

// One value of a C aggregate.
struct TableValue {
  enum class Kind {
    Int32,    // `integer`, a C int; `symbol` names it when it is an enum
    Int64,    // `integer`
    UInt64,   // `unsignedInteger`
    Double,   // `real`
    String,   // `text`, a NUL-terminated string
    Null,     // a null pointer
    Global,   // the address of the table's global named `text`
    Function, // the address of the generated entry point named `text`
    Struct,   // `elements`, in field order
    Array,    // `elements`, all of one kind and shape
  };
  Kind kind = Kind::Int32;
  int64_t integer = 0;
  uint64_t unsignedInteger = 0;
  double real = 0;
  std::string text;
  std::string symbol;
  std::vector<TableValue> elements;
};

// A named constant: the table is a few of them, each referring only to
// those before it. The last is the gradc_model itself.
struct TableGlobal {
  std::string name;
  std::string cType; // "gradc_param_info" for an array of them
  TableValue value;
};

// The entry points the table refers to, in gradc_model's order.
inline const char *const EntryPoints[] = {"forwardF32", "trainF32",
                                          "forwardF64", "trainF64"};

std::vector<TableGlobal> buildModelTable(const ModelSpec &spec,
                                         const Graph &graph,
                                         const MemoryPlan &plan,
                                         const EmitOptions &options);

} // namespace gradc

#endif // GRADC_CODEGEN_MODELTABLE_H
