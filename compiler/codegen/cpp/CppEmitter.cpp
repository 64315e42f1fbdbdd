//===- CppEmitter.cpp - Graph to C++ source -------------------------------===//
//
// Prints the kernel program of codegen/KernelProgram.h. Every node becomes
// a pointer `t<id>` to its storage; a kernel call becomes a call into
// gradc/kernels.h, an elementwise loop a plain loop the C++ compiler
// vectorizes. Names from the model file never appear in this code; they
// reach the output only as escaped string literals in the model table.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpp/CppEmitter.h"

#include "codegen/KernelProgram.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace gradc {

std::string cStringLiteral(const std::string &text) {
  std::string literal = "\"";
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '/' ||
        c == ' ' || c == ',' || c == '=' || c == ':')
      literal += static_cast<char>(c);
    else
      literal += fmt::format("\\{:03o}", c);
  }
  return literal + "\"";
}

namespace {

// Attributes are printed with 17 digits, so the double check sees the
// very value the model file gave.
std::string number(double value) { return fmt::format("{:.17g}", value); }

std::string extent(Extent e) {
  if (e.perSample == 0)
    return std::to_string(e.fixed);
  std::string text =
      e.perSample == 1 ? "B" : fmt::format("B * {}", e.perSample);
  return e.fixed ? fmt::format("{} + {}", text, e.fixed) : text;
}

std::string ptr(NodeId id) { return "t" + std::to_string(id); }

class StepPrinter {
public:
  StepPrinter(const Graph &graph, const MemoryPlan &plan)
      : graph(graph), plan(plan) {}

  std::string print(const KernelProgram &program);

private:
  void declarePointer(const Node &node);
  void print(const Statement &statement);
  void print(const KernelCall &call);
  void print(const ElementwiseLoop &loop);
  void print(const SumRowsLoop &loop);
  void print(const BlockCopy &copy);
  std::string argument(const KernelArg &arg) const;

  const Graph &graph;
  const MemoryPlan &plan;
  std::ostringstream out;
};

// The value of one element of an elementwise op, given its operands.
std::string elementExpression(const FusedStep &step,
                              const std::vector<std::string> &x) {
  std::string alpha =
      step.attrs.count("alpha") ? "T(" + number(step.attrs.at("alpha")) + ")"
                                : "";
  switch (step.op) {
  case OpKind::BiasAdd:
  case OpKind::Add:
    return fmt::format("{} + {}", x[0], x[1]);
  case OpKind::Mul:
    return fmt::format("{} * {}", x[0], x[1]);
  case OpKind::Relu:
    return fmt::format("{0} > T(0) ? {0} : T(0)", x[0]);
  case OpKind::Sigmoid:
    return fmt::format("gradc::sigmoid<T>({})", x[0]);
  case OpKind::Tanh:
    return fmt::format("std::tanh({})", x[0]);
  case OpKind::ReluGrad:
    return fmt::format("{} > T(0) ? {} : T(0)", x[1], x[0]);
  case OpKind::SigmoidGrad:
    return fmt::format("{0} * {1} * (T(1) - {1})", x[0], x[1]);
  case OpKind::TanhGrad:
    // 1 - y * y with one rounding, as the LLVM backend writes it: left
    // to itself, the C++ compiler fuses it in some loops and not others.
    return fmt::format("{0} * std::fma(-{1}, {1}, T(1))", x[0], x[1]);
  case OpKind::LeakyRelu:
    return fmt::format("gradc::leakyRelu<T>({}, {})", x[0], alpha);
  case OpKind::Elu:
    return fmt::format("gradc::elu<T>({}, {})", x[0], alpha);
  case OpKind::Gelu:
    return fmt::format("gradc::gelu<T>({})", x[0]);
  case OpKind::Softplus:
    return fmt::format("gradc::softplus<T>({})", x[0]);
  case OpKind::LeakyReluGrad:
    return fmt::format("gradc::leakyReluGrad<T>({}, {}, {})", x[0], x[1],
                       alpha);
  case OpKind::EluGrad:
    return fmt::format("gradc::eluGrad<T>({}, {}, {})", x[0], x[1], alpha);
  case OpKind::GeluGrad:
    return fmt::format("gradc::geluGrad<T>({}, {})", x[0], x[1]);
  case OpKind::SoftplusGrad:
    return fmt::format("gradc::softplusGrad<T>({}, {})", x[0], x[1]);
  default:
    break;
  }
  throw InternalError(std::string("the C++ backend has no elementwise form "
                                  "of '") +
                      opName(step.op) + "'");
}

} // namespace

void StepPrinter::declarePointer(const Node &node) {
  const Storage &storage = plan.storage[node.id];
  std::string name = ptr(node.id);
  switch (storage.kind) {
  case StorageKind::Input:
    out << fmt::format("  const T *{} = c->x;\n", name);
    return;
  case StorageKind::Labels:
    out << fmt::format("  const int32_t *{} = c->labels;\n", name);
    return;
  case StorageKind::Targets:
    out << fmt::format("  const T *{} = c->targets;\n", name);
    return;
  case StorageKind::Params:
    // Buffers such as running statistics are updated by the step.
    out << fmt::format("  {}T *{} = c->params + {};\n",
                       graph.params[node.param].isBuffer ? "" : "const ",
                       name, storage.fixed);
    return;
  case StorageKind::Grads:
    out << fmt::format("  T *{} = c->grads + {};\n", name, storage.fixed);
    return;
  case StorageKind::Loss:
    out << fmt::format("  T *{} = c->loss;\n", name);
    return;
  case StorageKind::SqNorm:
    out << fmt::format("  T *{} = c->grad_sqnorms + {};\n", name,
                       storage.fixed);
    return;
  case StorageKind::Alias:
    out << fmt::format("  auto *{} = {};\n", name, ptr(storage.aliasOf));
    return;
  case StorageKind::Workspace:
    out << fmt::format("  T *{} = ws + {} * B + {};\n", name,
                       storage.perSample, storage.fixed);
    return;
  }
}

std::string StepPrinter::argument(const KernelArg &arg) const {
  switch (arg.kind) {
  case KernelArg::Kind::Size:
    return extent(arg.size);
  case KernelArg::Kind::Real:
    return number(arg.real);
  case KernelArg::Kind::Salt:
    return fmt::format("{:#x}ull", arg.salt);
  case KernelArg::Kind::Tensor:
    return ptr(arg.node);
  case KernelArg::Kind::Window:
    return fmt::format("gradc::WindowShape{{{}}}",
                       fmt::join(arg.window, ", "));
  case KernelArg::Kind::Seed:
    return "c->seed";
  case KernelArg::Kind::Training:
    return "c->training != 0";
  }
  throw InternalError("a kernel argument has no C++ form");
}

void StepPrinter::print(const KernelCall &call) {
  std::vector<std::string> args;
  for (const KernelArg &arg : call.args)
    args.push_back(argument(arg));
  std::string kernel = call.cppTemplate.empty() ? call.kernel + "<T>"
                                                : call.cppTemplate;
  std::string text =
      fmt::format("gradc::{}({})", kernel, fmt::join(args, ", "));
  if (call.result >= 0)
    out << fmt::format("  {}[0] = {};\n", ptr(call.result), text);
  else
    out << "  " << text << ";\n";
}

void StepPrinter::print(const ElementwiseLoop &loop) {
  bool broadcasts = std::find(loop.broadcast.begin(), loop.broadcast.end(),
                              true) != loop.broadcast.end();
  // One flat loop over i when nothing broadcasts, since rows are
  // contiguous; otherwise rows r of `width` columns j.
  std::string at = broadcasts ? fmt::format("[r * {} + j]", loop.width)
                              : std::string("[i]");
  std::vector<std::string> operands;
  for (size_t i = 0; i < loop.operands.size(); ++i)
    operands.push_back(ptr(loop.operands[i]) +
                       (loop.broadcast[i] ? std::string("[j]") : at));

  std::string indent = "  "; // of the innermost loop's line
  if (broadcasts) {
    out << fmt::format("  for (int64_t r = 0; r < {}; ++r)\n",
                       extent(loop.rows));
    out << fmt::format("    for (int64_t j = 0; j < {}; ++j)", loop.width);
    indent = "    ";
  } else {
    Extent total{loop.rows.perSample * loop.width,
                 loop.rows.fixed * loop.width};
    out << fmt::format("  for (int64_t i = 0; i < {}; ++i)", extent(total));
  }

  // A fused chain keeps each step's result in a local v<k>.
  auto expression = [&](const FusedStep &step) {
    std::vector<std::string> x;
    for (int operand : step.operands)
      x.push_back(operand >= 0 ? operands.at(operand)
                               : "v" + std::to_string(-1 - operand));
    return elementExpression(step, x);
  };
  std::string y = ptr(loop.output) + at;
  if (loop.steps.size() == 1) {
    out << "\n" << indent << "  " << y << " = "
        << expression(loop.steps[0]) << ";\n";
    return;
  }
  out << " {\n";
  for (size_t k = 0; k + 1 < loop.steps.size(); ++k)
    out << indent << "  const T v" << k << " = "
        << expression(loop.steps[k]) << ";\n";
  out << indent << "  " << y << " = " << expression(loop.steps.back())
      << ";\n"
      << indent << "}\n";
}

void StepPrinter::print(const SumRowsLoop &loop) {
  std::string y = ptr(loop.output);
  out << fmt::format("  std::fill({0}, {0} + {1}, T(0));\n", y, loop.width);
  out << fmt::format("  for (int64_t r = 0; r < {}; ++r)\n",
                     extent(loop.rows));
  out << fmt::format("    for (int64_t j = 0; j < {}; ++j)\n", loop.width);
  out << fmt::format("      {}[j] += {}[r * {} + j];\n", y, ptr(loop.input),
                     loop.width);
}

void StepPrinter::print(const BlockCopy &copy) {
  std::string from = ptr(copy.from), to = ptr(copy.to);
  out << fmt::format("  for (int64_t o = 0; o < {}; ++o)\n",
                     extent(copy.rows));
  out << fmt::format("    std::copy({0} + o * {1} + {2}, {0} + o * {1} + "
                     "{3}, {4} + o * {5} + {6});\n",
                     from, copy.fromStride, copy.fromOffset,
                     copy.fromOffset + copy.length, to, copy.toStride,
                     copy.toOffset);
}

void StepPrinter::print(const Statement &statement) {
  std::visit([this](const auto &work) { print(work); }, statement.work);
}

std::string StepPrinter::print(const KernelProgram &program) {
  out << "// One step: the forward pass; the loss when targets are given;\n"
         "// with `backward`, every gradient, and its squared norm where\n"
         "// the caller wants the norms.\n"
         "template <typename T, typename Context>\n"
         "void step(const Context *c, bool backward) {\n"
         "  const int64_t B = c->batch;\n"
         "  T *ws = c->workspace;\n";
  // The norms' pointers are declared where the norms are computed: the
  // pointer they offset may be null.
  auto holdsNorm = [this](const Node &node) {
    return plan.storage[node.id].kind == StorageKind::SqNorm;
  };
  for (const Node &node : graph.nodes)
    if (!holdsNorm(node))
      declarePointer(node);

  out << "\n";
  for (const Statement &statement : program.forward)
    print(statement);

  out << fmt::format("\n  std::copy({0}, {0} + {1}, c->output);\n",
                     ptr(graph.output),
                     extent(elementCount(graph.type(graph.output))))
      << "  if (!c->labels && !c->targets)\n    return;\n\n";
  for (const Statement &statement : program.loss)
    print(statement);

  out << "\n  if (!backward)\n    return;\n\n";
  for (const Statement &statement : program.backward)
    print(statement);

  out << "\n  if (!c->grad_sqnorms)\n    return;\n\n";
  for (const Node &node : graph.nodes)
    if (holdsNorm(node))
      declarePointer(node);
  for (const Statement &statement : program.norms)
    print(statement);
  out << "}\n";
  return out.str();
}

namespace {

// A table value as a C++ initializer. `arrays` names the globals that are
// arrays, whose names decay to pointers; a struct global needs `&`.
std::string initializer(const TableValue &value,
                        const std::vector<std::string> &arrays) {
  using Kind = TableValue::Kind;
  switch (value.kind) {
  case Kind::Int32:
    return value.symbol.empty() ? std::to_string(value.integer)
                                : value.symbol;
  case Kind::Int64:
    return std::to_string(value.integer);
  case Kind::UInt64:
    return std::to_string(value.unsignedInteger) + "u";
  case Kind::Double:
    return number(value.real);
  case Kind::String:
    return cStringLiteral(value.text);
  case Kind::Null:
    return "nullptr";
  case Kind::Global:
    return std::find(arrays.begin(), arrays.end(), value.text) != arrays.end()
               ? value.text
               : "&" + value.text;
  case Kind::Function:
    return value.text;
  case Kind::Struct:
  case Kind::Array: {
    std::vector<std::string> parts;
    for (const TableValue &element : value.elements)
      parts.push_back(initializer(element, arrays));
    return fmt::format("{{{}}}", fmt::join(parts, ", "));
  }
  }
  throw InternalError("a table value has no C++ form");
}

std::string printTable(const std::vector<TableGlobal> &table) {
  std::ostringstream out;
  std::vector<std::string> arrays;
  for (const TableGlobal &global : table) {
    bool isArray = global.value.kind == TableValue::Kind::Array;
    out << fmt::format("const {} {}{} = ", global.cType, global.name,
                       isArray ? "[]" : "");
    if (isArray) {
      out << "{\n";
      for (const TableValue &element : global.value.elements)
        out << "    " << initializer(element, arrays) << ",\n";
      out << "};\n\n";
      arrays.push_back(global.name);
    } else {
      out << initializer(global.value, arrays) << ";\n\n";
    }
  }
  out << "} // namespace\n\n";
  out << "extern \"C\" const gradc_model *gradc_get_model(void) { return "
         "&model; }\n";
  return out.str();
}

} // namespace

std::string emitCpp(const ModelSpec &spec, const Graph &graph,
                    const MemoryPlan &plan, const EmitOptions &options) {
  std::ostringstream out;
  out << "// Generated by gradc from the model " << cStringLiteral(graph.name)
      << ". Do not edit.\n"
         "#include <gradc/abi.h>\n"
         "#include <gradc/kernels.h>\n\n"
         "#include <algorithm>\n#include <cmath>\n#include <cstdint>\n\n"
         "namespace {\n\n";
  out << StepPrinter(graph, plan).print(lowerToKernels(graph)) << "\n";
  out << "void forwardF32(const gradc_ctx_f32 *c) { step<float>(c, false); }\n"
         "void trainF32(const gradc_ctx_f32 *c) { step<float>(c, true); }\n"
         "void forwardF64(const gradc_ctx_f64 *c) { step<double>(c, false); "
         "}\n"
         "void trainF64(const gradc_ctx_f64 *c) { step<double>(c, true); }\n"
         "\n";
  out << printTable(buildModelTable(spec, graph, plan, options));
  return out.str();
}

} // namespace gradc
