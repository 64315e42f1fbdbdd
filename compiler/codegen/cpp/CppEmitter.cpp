//===- CppEmitter.cpp - Graph to C++ source -------------------------------===//
//
// Prints the training step. Every node becomes a pointer `t<id>` to its
// storage and, unless it is a leaf or an alias, one statement: a plain
// loop for elementwise work, a call into gradc/kernels.h for products and
// losses. Names from the model file never appear in this code; they reach
// the output only as escaped string literals in the model table.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpp/CppEmitter.h"

#include "codegen/cpp/ConvEmitter.h"
#include "codegen/cpp/ModelTable.h"
#include "codegen/cpp/SequenceEmitter.h"

#include <fmt/format.h>

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

// Distinguishes the dropout masks of different layers: the FNV-1a hash of
// the layer's name, so that a layer keeps its masks when others are added.
uint64_t dropoutSalt(const std::string &layer) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (unsigned char c : layer)
    hash = (hash ^ c) * 0x100000001B3ull;
  return hash;
}

class StepEmitter {
public:
  StepEmitter(const Graph &graph, const MemoryPlan &plan)
      : graph(graph), plan(plan) {}

  std::string emit();

private:
  void declarePointer(const Node &node);
  void emitNode(const Node &node);
  void emitElementwise(const Node &node, const std::string &expression);

  // The element count of a node's tensor as a C++ expression.
  std::string count(NodeId id) const;
  // For a batched tensor, the rows when its last axis is the row.
  std::string rows(NodeId id) const;
  void emitAxisCopy(const Node &node);
  // "B, C, inner" for a per-channel kernel's view of a batched tensor.
  std::string channelLayout(NodeId id) const;

  std::string ptr(NodeId id) const { return "t" + std::to_string(id); }

  const Graph &graph;
  const MemoryPlan &plan;
  std::ostringstream out;
};

} // namespace

std::string StepEmitter::count(NodeId id) const {
  const TensorType &type = graph.type(id);
  if (type.batched)
    return fmt::format("B * {}", type.elements());
  return std::to_string(type.elements());
}

// Concat and slice move blocks along one axis of a sample. Viewing a
// tensor as [outer, axis, inner], each of the `outer` rows is a run of
// whole blocks that is copied as it is.
void StepEmitter::emitAxisCopy(const Node &node) {
  auto axis = static_cast<size_t>(node.attrs.at("axis"));
  const TensorType &whole =
      node.op == OpKind::Concat ? node.type : graph.type(node.inputs[0]);
  int64_t inner = 1, outer = 1;
  for (size_t d = 0; d < whole.dims.size(); ++d)
    if (d < axis)
      outer *= whole.dims[d];
    else if (d > axis)
      inner *= whole.dims[d];
  int64_t wholeRow = whole.dims[axis] * inner;

  auto copyRows = [&](const std::string &from, int64_t fromRow,
                      int64_t fromOffset, const std::string &to,
                      int64_t toRow, int64_t toOffset, int64_t length) {
    out << fmt::format("  for (int64_t o = 0; o < B * {}; ++o)\n", outer);
    out << fmt::format("    std::copy({0} + o * {1} + {2}, {0} + o * {1} + "
                       "{3}, {4} + o * {5} + {6});\n",
                       from, fromRow, fromOffset, fromOffset + length, to,
                       toRow, toOffset);
  };

  if (node.op == OpKind::Slice) {
    int64_t offset = static_cast<int64_t>(node.attrs.at("offset")) * inner;
    int64_t length = static_cast<int64_t>(node.attrs.at("size")) * inner;
    copyRows(ptr(node.inputs[0]), wholeRow, offset, ptr(node.id), length, 0,
             length);
    return;
  }

  int64_t offset = 0;
  for (NodeId input : node.inputs) {
    int64_t length = graph.type(input).dims[axis] * inner;
    copyRows(ptr(input), length, 0, ptr(node.id), wholeRow, offset, length);
    offset += length;
  }
}

std::string StepEmitter::channelLayout(NodeId id) const {
  const TensorType &type = graph.type(id);
  int64_t channels = channelCount(type);
  return fmt::format("B, {}, {}", channels, type.elements() / channels);
}

std::string StepEmitter::rows(NodeId id) const {
  const TensorType &type = graph.type(id);
  return fmt::format("B * {}", type.elements() / type.lastDim());
}

void StepEmitter::declarePointer(const Node &node) {
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

void StepEmitter::emitElementwise(const Node &node,
                                  const std::string &expression) {
  out << fmt::format("  for (int64_t i = 0; i < {}; ++i)\n", count(node.id));
  out << fmt::format("    {}[i] = {};\n", ptr(node.id), expression);
}

void StepEmitter::emitNode(const Node &node) {
  const auto &in = node.inputs;
  std::string y = ptr(node.id);
  auto x = [&](int i) { return ptr(in.at(i)); };
  auto at = [&](int i) { return ptr(in.at(i)) + "[i]"; };

  switch (node.op) {
  case OpKind::Input:
  case OpKind::Labels:
  case OpKind::Targets:
  case OpKind::Parameter:
  case OpKind::Reshape:
    return;

  case OpKind::MatMulNT: {
    const TensorType &w = graph.type(in[1]);
    out << fmt::format("  gradc::matmulNT<T>({}, {}, {}, {}, {}, {});\n",
                       rows(in[0]), w.dims[0], w.dims[1], x(0), x(1), y);
    return;
  }
  case OpKind::MatMulNN: {
    const TensorType &w = graph.type(in[1]);
    out << fmt::format("  gradc::matmulNN<T>({}, {}, {}, {}, {}, {});\n",
                       rows(in[0]), w.dims[0], w.dims[1], x(0), x(1), y);
    return;
  }
  case OpKind::MatMulTN:
    out << fmt::format("  gradc::matmulTN<T>({}, {}, {}, {}, {}, {});\n",
                       rows(in[0]), graph.type(in[0]).lastDim(),
                       graph.type(in[1]).lastDim(), x(0), x(1), y);
    return;

  case OpKind::BiasAdd: {
    int64_t n = graph.type(in[1]).elements();
    out << fmt::format("  for (int64_t r = 0; r < {}; ++r)\n", rows(in[0]));
    out << fmt::format("    for (int64_t j = 0; j < {}; ++j)\n", n);
    out << fmt::format("      {0}[r * {1} + j] = {2}[r * {1} + j] + {3}[j];\n",
                       y, n, x(0), x(1));
    return;
  }
  case OpKind::SumRows: {
    int64_t n = graph.type(node.id).elements();
    out << fmt::format("  std::fill({0}, {0} + {1}, T(0));\n", y, n);
    out << fmt::format("  for (int64_t r = 0; r < {}; ++r)\n", rows(in[0]));
    out << fmt::format("    for (int64_t j = 0; j < {}; ++j)\n", n);
    out << fmt::format("      {}[j] += {}[r * {} + j];\n", y, x(0), n);
    return;
  }

  case OpKind::Relu:
    return emitElementwise(node, fmt::format("{0} > T(0) ? {0} : T(0)",
                                             at(0)));
  case OpKind::Sigmoid:
    return emitElementwise(node,
                           fmt::format("T(1) / (T(1) + std::exp(-{}))", at(0)));
  case OpKind::Tanh:
    return emitElementwise(node, fmt::format("std::tanh({})", at(0)));
  case OpKind::ReluGrad:
    return emitElementwise(node, fmt::format("{} > T(0) ? {} : T(0)", at(1),
                                             at(0)));
  case OpKind::SigmoidGrad:
    return emitElementwise(node, fmt::format("{0} * {1} * (T(1) - {1})",
                                             at(0), at(1)));
  case OpKind::TanhGrad:
    return emitElementwise(node, fmt::format("{0} * (T(1) - {1} * {1})",
                                             at(0), at(1)));
  case OpKind::Mul:
    return emitElementwise(node, fmt::format("{} * {}", at(0), at(1)));
  case OpKind::Concat:
  case OpKind::Slice:
    return emitAxisCopy(node);
  case OpKind::Add:
    return emitElementwise(node, fmt::format("{} + {}", at(0), at(1)));

  case OpKind::SoftmaxCrossEntropy:
    out << fmt::format("  {}[0] = gradc::softmaxCrossEntropy<T>(B, {}, {}, "
                       "{});\n",
                       y, graph.type(in[0]).lastDim(), x(0), x(1));
    return;
  case OpKind::SoftmaxCrossEntropyGrad:
    out << fmt::format("  gradc::softmaxCrossEntropyGrad<T>(B, {}, {}, {}, "
                       "{});\n",
                       graph.type(in[0]).lastDim(), x(0), x(1), y);
    return;
  case OpKind::MeanSquaredError:
    out << fmt::format("  {}[0] = gradc::meanSquaredError<T>({}, {}, {});\n",
                       y, count(in[0]), x(0), x(1));
    return;
  case OpKind::MeanSquaredErrorGrad:
    out << fmt::format("  gradc::meanSquaredErrorGrad<T>({}, {}, {}, {});\n",
                       count(in[0]), x(0), x(1), y);
    return;

  // The elementwise, normalization and regularization family: scalar
  // functions in elementwise loops, row and tensor kernels by call. The
  // attributes are printed with 17 digits, so the double check sees the
  // very value the model file gave.
  case OpKind::LeakyRelu:
    return emitElementwise(node, fmt::format("gradc::leakyRelu<T>({}, "
                                             "T({:.17g}))",
                                             at(0), node.attrs.at("alpha")));
  case OpKind::Elu:
    return emitElementwise(node, fmt::format("gradc::elu<T>({}, T({:.17g}))",
                                             at(0), node.attrs.at("alpha")));
  case OpKind::Gelu:
    return emitElementwise(node, fmt::format("gradc::gelu<T>({})", at(0)));
  case OpKind::Softplus:
    return emitElementwise(node, fmt::format("gradc::softplus<T>({})", at(0)));
  case OpKind::Softmax:
    out << fmt::format("  gradc::softmaxRows<T>({}, {}, {}, {});\n",
                       rows(in[0]), graph.type(in[0]).lastDim(), x(0), y);
    return;
  case OpKind::Dropout:
  case OpKind::DropoutGrad:
    out << fmt::format("  gradc::dropout<T>({}, {}, {}, {:.17g}, c->seed, "
                       "{:#x}ull, c->training != 0);\n",
                       count(in[0]), x(0), y, node.attrs.at("rate"),
                       dropoutSalt(node.layer));
    return;
  case OpKind::LayerNorm:
    out << fmt::format("  gradc::layerNorm<T>({}, {}, {}, {}, {}, {:.17g}, "
                       "{});\n",
                       rows(in[0]), graph.type(in[0]).lastDim(), x(0), x(1),
                       x(2), node.attrs.at("eps"), y);
    return;
  case OpKind::BceWithLogits:
    out << fmt::format("  {}[0] = gradc::bceWithLogits<T>({}, {}, {});\n", y,
                       count(in[0]), x(0), x(1));
    return;
  case OpKind::LeakyReluGrad:
    return emitElementwise(node,
                           fmt::format("gradc::leakyReluGrad<T>({}, {}, "
                                       "T({:.17g}))",
                                       at(0), at(1), node.attrs.at("alpha")));
  case OpKind::EluGrad:
    return emitElementwise(node,
                           fmt::format("gradc::eluGrad<T>({}, {}, "
                                       "T({:.17g}))",
                                       at(0), at(1), node.attrs.at("alpha")));
  case OpKind::GeluGrad:
    return emitElementwise(
        node, fmt::format("gradc::geluGrad<T>({}, {})", at(0), at(1)));
  case OpKind::SoftplusGrad:
    return emitElementwise(
        node, fmt::format("gradc::softplusGrad<T>({}, {})", at(0), at(1)));
  case OpKind::SoftmaxGrad:
    out << fmt::format("  gradc::softmaxRowsGrad<T>({}, {}, {}, {}, {});\n",
                       rows(in[0]), graph.type(in[0]).lastDim(), x(0), x(1),
                       y);
    return;
  case OpKind::LayerNormGrad:
    out << fmt::format("  gradc::layerNormGrad<T>({}, {}, {}, {}, {}, "
                       "{:.17g}, {});\n",
                       rows(in[0]), graph.type(in[0]).lastDim(), x(0), x(1),
                       x(2), node.attrs.at("eps"), y);
    return;
  case OpKind::LayerNormWeightGrad:
    out << fmt::format("  gradc::layerNormWeightGrad<T>({}, {}, {}, {}, "
                       "{:.17g}, {});\n",
                       rows(in[0]), graph.type(in[0]).lastDim(), x(0), x(1),
                       node.attrs.at("eps"), y);
    return;
  case OpKind::BceWithLogitsGrad:
    out << fmt::format("  gradc::bceWithLogitsGrad<T>({}, {}, {}, {});\n",
                       count(in[0]), x(0), x(1), y);
    return;

  // BatchNorm kernels take the layout [B, C, inner].
  case OpKind::BatchNormStats:
    out << fmt::format("  gradc::batchNormStats<T>({}, {}, {}, {}, {}, {}, "
                       "{}, c->training != 0);\n",
                       channelLayout(in[0]), x(0), x(1), x(2), y,
                       node.attrs.at("eps"), node.attrs.at("momentum"));
    return;
  case OpKind::BatchNormApply:
    out << fmt::format("  gradc::batchNormApply<T>({}, {}, {}, {}, {}, {});\n",
                       channelLayout(in[0]), x(0), x(1), x(2), x(3), y);
    return;
  case OpKind::BatchNormInputGrad:
    out << fmt::format("  gradc::batchNormInputGrad<T>({}, {}, {}, {}, {});\n",
                       channelLayout(in[0]), x(0), x(1), x(2), y);
    return;
  case OpKind::BatchNormStatsGrad:
    out << fmt::format("  gradc::batchNormStatsGrad<T>({}, {}, {}, {}, {}, "
                       "{});\n",
                       channelLayout(in[0]), x(0), x(1), x(2), x(3), y);
    return;
  case OpKind::BatchNormStatsInputGrad:
    out << fmt::format("  gradc::batchNormStatsInputGrad<T>({}, {}, {}, {}, "
                       "{});\n",
                       channelLayout(in[1]), x(0), x(1), x(2), y);
    return;
  case OpKind::BatchNormWeightGrad:
    out << fmt::format("  gradc::batchNormWeightGrad<T>({}, {}, {}, {}, "
                       "{});\n",
                       channelLayout(in[0]), x(0), x(1), x(2), y);
    return;
  case OpKind::ChannelSum:
    out << fmt::format("  gradc::channelSum<T>({}, {}, {});\n",
                       channelLayout(in[0]), x(0), y);
    return;

  // The convolutional family, in codegen/cpp/ConvEmitter.cpp.
  case OpKind::Conv2d:
  case OpKind::ChannelBiasAdd:
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d:
  case OpKind::Conv2dInputGrad:
  case OpKind::Conv2dWeightGrad:
  case OpKind::MaxPool2dGrad:
  case OpKind::AvgPool2dGrad: {
    std::vector<std::string> inputs;
    for (NodeId id : in)
      inputs.push_back(ptr(id));
    out << emitConvStatement(graph, node, inputs, y);
    return;
  }

  // The sequence family, in codegen/cpp/SequenceEmitter.cpp.
  case OpKind::RnnTanhScan:
  case OpKind::RnnReluScan:
  case OpKind::LstmScan:
  case OpKind::LstmHidden:
  case OpKind::LastStep:
  case OpKind::Embedding:
  case OpKind::RnnTanhScanGrad:
  case OpKind::RnnReluScanGrad:
  case OpKind::LstmScanGrad:
  case OpKind::LstmHiddenGrad:
  case OpKind::PrevHidden:
  case OpKind::LastStepGrad:
  case OpKind::EmbeddingGrad: {
    std::vector<std::string> inputs;
    for (NodeId id : in)
      inputs.push_back(ptr(id));
    out << emitSequenceStatement(graph, node, inputs, y);
    return;
  }

  case OpKind::SquaredNorm:
    out << fmt::format("  {}[0] = gradc::squaredNorm<T>({}, {});\n", y,
                       count(in[0]), x(0));
    return;
  }
  throw InternalError(std::string("the C++ backend cannot emit '") +
                      opName(node.op) + "'");
}

std::string StepEmitter::emit() {
  out << "// One step: the forward pass; the loss when targets are given;\n"
         "// with `backward`, every gradient and its squared norm.\n"
         "template <typename T, typename Context>\n"
         "void step(const Context *c, bool backward) {\n"
         "  const int64_t B = c->batch;\n"
         "  T *ws = c->workspace;\n";
  for (const Node &node : graph.nodes)
    declarePointer(node);

  std::optional<Role> current;
  for (const Node &node : graph.nodes) {
    if (node.role != current) {
      current = node.role;
      if (node.role == Role::Loss)
        out << fmt::format("\n  std::copy({0}, {0} + {1}, c->output);\n",
                           ptr(graph.output), count(graph.output))
            << "  if (!c->labels && !c->targets)\n    return;\n";
      if (node.role == Role::Backward)
        out << "\n  if (!backward)\n    return;\n";
      out << "\n";
    }
    emitNode(node);
  }
  out << "}\n";
  return out.str();
}

std::string emitCpp(const ModelSpec &spec, const Graph &graph,
                    const MemoryPlan &plan, const EmitOptions &options) {
  std::ostringstream out;
  out << "// Generated by gradc from the model '" << graph.name
      << "'. Do not edit.\n"
         "#include <gradc/abi.h>\n"
         "#include <gradc/kernels.h>\n\n"
         "#include <algorithm>\n#include <cmath>\n#include <cstdint>\n\n"
         "namespace {\n\n";
  out << StepEmitter(graph, plan).emit() << "\n";
  out << "void forwardF32(const gradc_ctx_f32 *c) { step<float>(c, false); }\n"
         "void trainF32(const gradc_ctx_f32 *c) { step<float>(c, true); }\n"
         "void forwardF64(const gradc_ctx_f64 *c) { step<double>(c, false); "
         "}\n"
         "void trainF64(const gradc_ctx_f64 *c) { step<double>(c, true); }\n"
         "\n";
  out << emitModelTable(spec, graph, plan, options);
  return out.str();
}

} // namespace gradc
