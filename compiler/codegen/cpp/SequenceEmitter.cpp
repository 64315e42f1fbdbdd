//===- SequenceEmitter.cpp - C++ for the sequence ops ---------------------===//
//
// Each op is one kernel call with its sizes as constants. The ops whose
// types were given rather than inferred (prev_hidden, last_step_grad,
// embedding_grad) are checked against their inputs here, since no shape
// rule has looked at them.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpp/SequenceEmitter.h"

#include <fmt/format.h>

namespace gradc {

int64_t inputVocabulary(const Graph &graph) {
  for (const Node &node : graph.nodes)
    if (node.op == OpKind::Embedding && node.inputs[0] == graph.input)
      return graph.type(node.inputs[1]).dims[0];
  return 0;
}

std::string emitSequenceStatement(const Graph &graph, const Node &node,
                                  const std::vector<std::string> &in,
                                  const std::string &y) {
  const TensorType &type = node.type;
  const TensorType &first = graph.type(node.inputs.at(0));
  auto check = [&](bool condition) {
    internalCheck(condition, std::string("'") + opName(node.op) +
                                 "' has a type that does not fit its input");
  };

  switch (node.op) {
  case OpKind::RnnTanhScan:
  case OpKind::RnnReluScan:
    return fmt::format("  gradc::rnnScan<T, {}>(B, {}, {}, {}, {}, {});\n",
                       node.op == OpKind::RnnReluScan, type.dims[0],
                       type.dims[1], in[0], in[1], y);
  case OpKind::RnnTanhScanGrad:
  case OpKind::RnnReluScanGrad:
    return fmt::format(
        "  gradc::rnnScanGrad<T, {}>(B, {}, {}, {}, {}, {}, {});\n",
        node.op == OpKind::RnnReluScanGrad, type.dims[0], type.dims[1], in[0],
        in[1], in[2], y);

  case OpKind::LstmScan:
    return fmt::format("  gradc::lstmScan<T>(B, {}, {}, {}, {}, {});\n",
                       type.dims[0], type.dims[1] / 6, in[0], in[1], y);
  case OpKind::LstmScanGrad:
    return fmt::format("  gradc::lstmScanGrad<T>(B, {}, {}, {}, {}, {}, {});\n",
                       type.dims[0], type.dims[1] / 4, in[0], in[1], in[2], y);
  case OpKind::LstmHidden:
    return fmt::format("  gradc::lstmHidden<T>(B * {}, {}, {}, {});\n",
                       type.dims[0], type.dims[1], in[0], y);
  case OpKind::LstmHiddenGrad:
    return fmt::format("  gradc::lstmHiddenGrad<T>(B * {}, {}, {}, {});\n",
                       first.dims[0], first.dims[1], in[0], y);

  case OpKind::PrevHidden:
    check(type.batched && type.dims.size() == 2 && first.batched &&
          first.dims.size() == 2 && first.dims[0] == type.dims[0] &&
          first.dims[1] >= type.dims[1]);
    return fmt::format("  gradc::prevHidden<T>(B, {}, {}, {}, {}, {});\n",
                       type.dims[0], first.dims[1], type.dims[1], in[0], y);

  case OpKind::LastStep:
    return fmt::format("  gradc::lastStep<T>(B, {}, {}, {}, {});\n",
                       first.dims[0], first.dims[1], in[0], y);
  case OpKind::LastStepGrad:
    check(type.batched && type.dims.size() == 2 && first.batched &&
          first.dims == std::vector<int64_t>{type.dims[1]});
    return fmt::format("  gradc::lastStepGrad<T>(B, {}, {}, {}, {});\n",
                       type.dims[0], type.dims[1], in[0], y);

  case OpKind::Embedding: {
    const TensorType &weight = graph.type(node.inputs.at(1));
    return fmt::format("  gradc::embedding<T>(B * {}, {}, {}, {}, {}, {});\n",
                       first.dims[0], weight.dims[0], weight.dims[1], in[0],
                       in[1], y);
  }
  case OpKind::EmbeddingGrad: {
    const TensorType &ids = graph.type(node.inputs.at(1));
    check(!type.batched && type.dims.size() == 2 && first.batched &&
          ids.batched && ids.dims.size() == 1 &&
          first.dims == std::vector<int64_t>{ids.dims[0], type.dims[1]});
    return fmt::format(
        "  gradc::embeddingGrad<T>(B * {}, {}, {}, {}, {}, {});\n", ids.dims[0],
        type.dims[0], type.dims[1], in[0], in[1], y);
  }

  default:
    break;
  }
  throw InternalError(std::string("'") + opName(node.op) +
                      "' is not a sequence op");
}

} // namespace gradc
