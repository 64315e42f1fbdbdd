//===- KernelProgram.cpp - Lowering a planned graph to kernels ------------===//
//
// One statement per node that computes something; leaves and reshapes
// need none, since the memory plan already made a reshape share its
// input's storage. The argument lists follow the kernels' signatures in
// gradc/kernels*.h, which gradc/kernel_exports.h mirrors for the
// precompiled library.
//
//===----------------------------------------------------------------------===//
#include "codegen/KernelProgram.h"

#include "ir/ConvOps.h"

namespace gradc {

Extent elementCount(const TensorType &type) {
  if (type.batched)
    return {type.elements(), 0};
  return {0, type.elements()};
}

int64_t inputVocabulary(const Graph &graph) {
  for (const Node &node : graph.nodes)
    if (node.op == OpKind::Embedding && node.inputs[0] == graph.input)
      return graph.type(node.inputs[1]).dims[0];
  return 0;
}

uint64_t dropoutSalt(const std::string &layer) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (unsigned char c : layer)
    hash = (hash ^ c) * 0x100000001B3ull;
  return hash;
}

namespace {

KernelArg size(int64_t value) {
  KernelArg arg;
  arg.size = {0, value};
  return arg;
}

KernelArg size(Extent value) {
  KernelArg arg;
  arg.size = value;
  return arg;
}

// B itself.
KernelArg batch() { return size(Extent{1, 0}); }

KernelArg real(double value) {
  KernelArg arg;
  arg.kind = KernelArg::Kind::Real;
  arg.real = value;
  return arg;
}

KernelArg tensor(NodeId node) {
  KernelArg arg;
  arg.kind = KernelArg::Kind::Tensor;
  arg.node = node;
  return arg;
}

KernelArg ofKind(KernelArg::Kind kind) {
  KernelArg arg;
  arg.kind = kind;
  return arg;
}

class Lowering {
public:
  Lowering(const Graph &graph) : graph(graph) {}

  // The statement for one node; false for nodes that need none.
  bool lower(const Node &node, Statement &statement);

private:
  KernelCall call(const std::string &kernel, std::vector<KernelArg> args,
                  NodeId result = -1) const {
    return KernelCall{kernel, "", std::move(args), result};
  }

  // The node's inputs and output as tensor arguments, after `leading`.
  std::vector<KernelArg> withTensors(const Node &node,
                                     std::vector<KernelArg> leading) const;

  ElementwiseLoop elementwise(const Node &node) const;
  std::vector<BlockCopy> axisCopies(const Node &node) const;
  KernelCall convCall(const Node &node) const;
  KernelCall sequenceCall(const Node &node) const;

  // B times the rows of one sample whose last axis is the row.
  Extent rows(NodeId id) const {
    const TensorType &type = graph.type(id);
    return {type.elements() / type.lastDim(), 0};
  }
  int64_t lastDim(NodeId id) const { return graph.type(id).lastDim(); }
  Extent count(NodeId id) const { return elementCount(graph.type(id)); }

  // "B, C, inner": a per-channel kernel's view of a batched tensor.
  std::vector<KernelArg> channelLayout(NodeId id) const {
    const TensorType &type = graph.type(id);
    int64_t channels = channelCount(type);
    return {batch(), size(channels), size(type.elements() / channels)};
  }

  const Graph &graph;

public:
  // Concat has one copy per input; they are added after lower().
  std::vector<Statement> extra;
};

} // namespace

std::vector<KernelArg>
Lowering::withTensors(const Node &node, std::vector<KernelArg> leading) const {
  for (NodeId input : node.inputs)
    leading.push_back(tensor(input));
  leading.push_back(tensor(node.id));
  return leading;
}

// A plain elementwise node is a fused chain of one step. An operand that is
// not batched while the node is, a bias, is broadcast over the rows.
ElementwiseLoop Lowering::elementwise(const Node &node) const {
  ElementwiseLoop loop;
  loop.operands = node.inputs;
  loop.output = node.id;
  if (node.op == OpKind::Fused) {
    loop.steps = node.steps;
  } else {
    FusedStep step{node.op, {}, node.attrs};
    for (size_t i = 0; i < node.inputs.size(); ++i)
      step.operands.push_back(static_cast<int>(i));
    loop.steps = {step};
  }

  const TensorType &type = node.type;
  loop.rows = type.batched ? Extent{1, 0} : Extent{0, 1};
  loop.width = type.elements();
  for (NodeId operand : node.inputs) {
    const TensorType &operandType = graph.type(operand);
    bool broadcast = type.batched && !operandType.batched;
    loop.broadcast.push_back(broadcast);
    if (broadcast) {
      internalCheck(type.elements() % operandType.elements() == 0,
                    "a broadcast operand does not divide its rows");
      loop.width = operandType.elements();
      loop.rows = {type.elements() / loop.width, 0};
    }
  }
  return loop;
}

// Concat and slice move blocks along one axis of a sample. Viewing a
// tensor as [outer, axis, inner], each of the `outer` rows is a run of
// whole blocks that is copied as it is.
std::vector<BlockCopy> Lowering::axisCopies(const Node &node) const {
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

  std::vector<BlockCopy> copies;
  if (node.op == OpKind::Slice) {
    int64_t offset = static_cast<int64_t>(node.attrs.at("offset")) * inner;
    int64_t length = static_cast<int64_t>(node.attrs.at("size")) * inner;
    copies.push_back(BlockCopy{{outer, 0}, node.inputs[0], wholeRow, offset,
                               node.id, length, 0, length});
    return copies;
  }

  int64_t offset = 0;
  for (NodeId input : node.inputs) {
    int64_t length = graph.type(input).dims[axis] * inner;
    copies.push_back(BlockCopy{{outer, 0}, input, length, 0, node.id,
                               wholeRow, offset, length});
    offset += length;
  }
  return copies;
}

KernelCall Lowering::convCall(const Node &node) const {
  if (node.op == OpKind::ChannelBiasAdd) {
    const TensorType &x = graph.type(node.inputs[0]);
    return call("channelBiasAdd",
                withTensors(node, {batch(), size(x.dims[0]),
                                   size(x.elements() / x.dims[0])}));
  }

  // The fused forms name their flag in the kernel, and the C++ backend
  // passes it as the template's.
  auto flag = [&node](const char *name) {
    auto found = node.attrs.find(name);
    return found != node.attrs.end() && found->second != 0;
  };
  const char *kernel = nullptr, *cppTemplate = nullptr;
  switch (node.op) {
  case OpKind::Conv2d:
    kernel = "conv2d"; // x, w -> y
    break;
  case OpKind::Conv2dBias: // x, w, b -> y
    kernel = flag("relu") ? "conv2dBiasRelu" : "conv2dBias";
    cppTemplate = flag("relu") ? "conv2dBias<T, true>" : "conv2dBias<T, false>";
    break;
  case OpKind::Conv2dInputGrad:
    kernel = "conv2dInputGrad"; // dy, w -> dx
    break;
  case OpKind::Conv2dWeightGrad:
    kernel = "conv2dWeightGrad"; // dy, x -> dw
    break;
  case OpKind::MaxPool2d:
    kernel = "maxPool2d"; // x -> y
    break;
  case OpKind::MaxPool2dGrad: // dy, x -> dx
    kernel = flag("positive") ? "maxPool2dGradPositive" : "maxPool2dGrad";
    cppTemplate = flag("positive") ? "maxPool2dGrad<T, true>" : nullptr;
    break;
  case OpKind::AvgPool2d:
    kernel = "avgPool2d"; // x -> y
    break;
  case OpKind::AvgPool2dGrad:
    kernel = "avgPool2dGrad"; // dy -> dx
    break;
  default:
    throw InternalError(std::string("'") + opName(node.op) +
                        "' is not of the convolutional family");
  }

  const ConvGeometry g = convGeometry(graph, node);
  KernelArg window = ofKind(KernelArg::Kind::Window);
  window.window = {g.channels,  g.height,   g.width,
                   g.outChannels, g.outHeight, g.outWidth,
                   g.kernel,    g.stride,   g.padding.top,
                   g.padding.left};
  KernelCall result = call(kernel, withTensors(node, {batch(), window}));
  if (cppTemplate)
    result.cppTemplate = cppTemplate;
  return result;
}

// The ops whose types were given rather than inferred (prev_hidden,
// last_step_grad, embedding_grad) are checked against their inputs here,
// since no shape rule has looked at them.
KernelCall Lowering::sequenceCall(const Node &node) const {
  const TensorType &type = node.type;
  const TensorType &first = graph.type(node.inputs.at(0));
  auto check = [&](bool condition) {
    internalCheck(condition, std::string("'") + opName(node.op) +
                                 "' has a type that does not fit its input");
  };

  switch (node.op) {
  case OpKind::RnnTanhScan:
  case OpKind::RnnReluScan: {
    bool relu = node.op == OpKind::RnnReluScan;
    KernelCall scan =
        call(relu ? "rnnReluScan" : "rnnTanhScan",
             withTensors(node, {batch(), size(type.dims[0]),
                                size(type.dims[1])}));
    scan.cppTemplate = relu ? "rnnScan<T, true>" : "rnnScan<T, false>";
    return scan;
  }
  case OpKind::RnnTanhScanGrad:
  case OpKind::RnnReluScanGrad: {
    bool relu = node.op == OpKind::RnnReluScanGrad;
    KernelCall scan =
        call(relu ? "rnnReluScanGrad" : "rnnTanhScanGrad",
             withTensors(node, {batch(), size(type.dims[0]),
                                size(type.dims[1])}));
    scan.cppTemplate =
        relu ? "rnnScanGrad<T, true>" : "rnnScanGrad<T, false>";
    return scan;
  }

  case OpKind::LstmScan:
    return call("lstmScan", withTensors(node, {batch(), size(type.dims[0]),
                                               size(type.dims[1] / 6)}));
  case OpKind::LstmScanGrad:
    return call("lstmScanGrad",
                withTensors(node, {batch(), size(type.dims[0]),
                                   size(type.dims[1] / 4)}));
  case OpKind::LstmHidden:
    return call("lstmHidden", withTensors(node, {size(Extent{type.dims[0], 0}),
                                                 size(type.dims[1])}));
  case OpKind::LstmHiddenGrad:
    return call("lstmHiddenGrad",
                withTensors(node, {size(Extent{first.dims[0], 0}),
                                   size(first.dims[1])}));

  case OpKind::PrevHidden:
    check(type.batched && type.dims.size() == 2 && first.batched &&
          first.dims.size() == 2 && first.dims[0] == type.dims[0] &&
          first.dims[1] >= type.dims[1]);
    return call("prevHidden",
                withTensors(node, {batch(), size(type.dims[0]),
                                   size(first.dims[1]), size(type.dims[1])}));

  case OpKind::LastStep:
    return call("lastStep", withTensors(node, {batch(), size(first.dims[0]),
                                               size(first.dims[1])}));
  case OpKind::LastStepGrad:
    check(type.batched && type.dims.size() == 2 && first.batched &&
          first.dims == std::vector<int64_t>{type.dims[1]});
    return call("lastStepGrad", withTensors(node, {batch(),
                                                   size(type.dims[0]),
                                                   size(type.dims[1])}));

  case OpKind::Embedding: {
    const TensorType &weight = graph.type(node.inputs.at(1));
    return call("embedding",
                withTensors(node, {size(Extent{first.dims[0], 0}),
                                   size(weight.dims[0]),
                                   size(weight.dims[1])}));
  }
  case OpKind::EmbeddingGrad: {
    const TensorType &ids = graph.type(node.inputs.at(1));
    check(!type.batched && type.dims.size() == 2 && first.batched &&
          ids.batched && ids.dims.size() == 1 &&
          first.dims == std::vector<int64_t>{ids.dims[0], type.dims[1]});
    return call("embeddingGrad",
                withTensors(node, {size(Extent{ids.dims[0], 0}),
                                   size(type.dims[0]), size(type.dims[1])}));
  }

  default:
    break;
  }
  throw InternalError(std::string("'") + opName(node.op) +
                      "' is not a sequence op");
}

bool Lowering::lower(const Node &node, Statement &statement) {
  statement.node = node.id;
  const auto &in = node.inputs;
  auto set = [&](auto work) {
    statement.work = std::move(work);
    return true;
  };

  switch (node.op) {
  case OpKind::Input:
  case OpKind::Labels:
  case OpKind::Targets:
  case OpKind::Parameter:
  case OpKind::Reshape:
    return false;

  // Products: [M,K] x [N,K]^T, [M,N] x [N,K] and [M,N]^T x [M,K].
  case OpKind::MatMulNT:
  case OpKind::MatMulNN: {
    const TensorType &w = graph.type(in[1]);
    return set(call(node.op == OpKind::MatMulNT ? "matmulNT" : "matmulNN",
                    withTensors(node, {size(rows(in[0])), size(w.dims[0]),
                                       size(w.dims[1])})));
  }
  case OpKind::MatMulTN:
    return set(call("matmulTN",
                    withTensors(node, {size(rows(in[0])), size(lastDim(in[0])),
                                       size(lastDim(in[1]))})));

  case OpKind::SumRows:
    return set(SumRowsLoop{rows(in[0]), node.type.elements(), in[0],
                           node.id});

  case OpKind::BiasAdd:
  case OpKind::Fused:
  case OpKind::Relu:
  case OpKind::Sigmoid:
  case OpKind::Tanh:
  case OpKind::ReluGrad:
  case OpKind::SigmoidGrad:
  case OpKind::TanhGrad:
  case OpKind::Mul:
  case OpKind::Add:
  case OpKind::LeakyRelu:
  case OpKind::Elu:
  case OpKind::Gelu:
  case OpKind::Softplus:
  case OpKind::LeakyReluGrad:
  case OpKind::EluGrad:
  case OpKind::GeluGrad:
  case OpKind::SoftplusGrad:
    return set(elementwise(node));

  case OpKind::Concat:
  case OpKind::Slice: {
    std::vector<BlockCopy> copies = axisCopies(node);
    statement.work = copies.front();
    for (size_t i = 1; i < copies.size(); ++i)
      extra.push_back(Statement{node.id, copies[i]});
    return true;
  }

  case OpKind::SoftmaxCrossEntropy:
    return set(call("softmaxCrossEntropy",
                    {batch(), size(lastDim(in[0])), tensor(in[0]),
                     tensor(in[1])},
                    node.id));
  case OpKind::SoftmaxCrossEntropyGrad:
    return set(call("softmaxCrossEntropyGrad",
                    withTensors(node, {batch(), size(lastDim(in[0]))})));
  case OpKind::MeanSquaredError:
    return set(call("meanSquaredError",
                    {size(count(in[0])), tensor(in[0]), tensor(in[1])},
                    node.id));
  case OpKind::MeanSquaredErrorGrad:
    return set(call("meanSquaredErrorGrad",
                    withTensors(node, {size(count(in[0]))})));
  case OpKind::BceWithLogits:
    return set(call("bceWithLogits",
                    {size(count(in[0])), tensor(in[0]), tensor(in[1])},
                    node.id));
  case OpKind::BceWithLogitsGrad:
    return set(call("bceWithLogitsGrad",
                    withTensors(node, {size(count(in[0]))})));

  case OpKind::Softmax:
    return set(call("softmaxRows",
                    withTensors(node, {size(rows(in[0])),
                                       size(lastDim(in[0]))})));
  case OpKind::SoftmaxGrad:
    return set(call("softmaxRowsGrad",
                    withTensors(node, {size(rows(in[0])),
                                       size(lastDim(in[0]))})));

  // Forward and backward share the kernel: the mask depends only on the
  // seed, the layer and the element's index.
  case OpKind::Dropout:
  case OpKind::DropoutGrad: {
    KernelArg salt = ofKind(KernelArg::Kind::Salt);
    salt.salt = dropoutSalt(node.layer);
    return set(call("dropout",
                    {size(count(in[0])), tensor(in[0]), tensor(node.id),
                     real(node.attrs.at("rate")),
                     ofKind(KernelArg::Kind::Seed), salt,
                     ofKind(KernelArg::Kind::Training)}));
  }

  case OpKind::LayerNorm:
  case OpKind::LayerNormGrad: {
    std::vector<KernelArg> args = {size(rows(in[0])), size(lastDim(in[0])),
                                   tensor(in[0]), tensor(in[1]),
                                   tensor(in[2]),
                                   real(node.attrs.at("eps")),
                                   tensor(node.id)};
    return set(call(node.op == OpKind::LayerNorm ? "layerNorm"
                                                 : "layerNormGrad",
                    args));
  }
  case OpKind::LayerNormWeightGrad:
    return set(call("layerNormWeightGrad",
                    {size(rows(in[0])), size(lastDim(in[0])), tensor(in[0]),
                     tensor(in[1]), real(node.attrs.at("eps")),
                     tensor(node.id)}));

  // BatchNorm kernels take the layout [B, C, inner].
  case OpKind::BatchNormStats: {
    std::vector<KernelArg> args = withTensors(node, channelLayout(in[0]));
    args.push_back(real(node.attrs.at("eps")));
    args.push_back(real(node.attrs.at("momentum")));
    args.push_back(ofKind(KernelArg::Kind::Training));
    return set(call("batchNormStats", args));
  }
  case OpKind::BatchNormApply:
    return set(call("batchNormApply",
                    withTensors(node, channelLayout(in[0]))));
  case OpKind::BatchNormInputGrad:
    return set(call("batchNormInputGrad",
                    withTensors(node, channelLayout(in[0]))));
  case OpKind::BatchNormStatsGrad:
    return set(call("batchNormStatsGrad",
                    withTensors(node, channelLayout(in[0]))));
  case OpKind::BatchNormStatsInputGrad:
    return set(call("batchNormStatsInputGrad",
                    withTensors(node, channelLayout(in[1]))));
  case OpKind::BatchNormWeightGrad:
    return set(call("batchNormWeightGrad",
                    withTensors(node, channelLayout(in[0]))));
  case OpKind::ChannelSum:
    return set(call("channelSum", withTensors(node, channelLayout(in[0]))));
  case OpKind::PositiveChannelSum:
    return set(
        call("positiveChannelSum", withTensors(node, channelLayout(in[0]))));

  case OpKind::Conv2d:
  case OpKind::Conv2dBias:
  case OpKind::ChannelBiasAdd:
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d:
  case OpKind::Conv2dInputGrad:
  case OpKind::Conv2dWeightGrad:
  case OpKind::MaxPool2dGrad:
  case OpKind::AvgPool2dGrad:
    return set(convCall(node));

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
  case OpKind::EmbeddingGrad:
    return set(sequenceCall(node));

  case OpKind::SquaredNorm:
    return set(call("squaredNorm", {size(count(in[0])), tensor(in[0])},
                    node.id));
  }
  throw InternalError(std::string("no kernel lowers '") + opName(node.op) +
                      "'");
}

KernelProgram lowerToKernels(const Graph &graph) {
  KernelProgram program;
  Lowering lowering(graph);
  Role latest = Role::Forward;
  for (const Node &node : graph.nodes) {
    // The sections run in order, so the roles must come in order too.
    internalCheck(node.role >= latest, "graph roles are out of order");
    latest = node.role;

    Statement statement;
    if (!lowering.lower(node, statement))
      continue;

    std::vector<Statement> &section =
        node.role == Role::Forward    ? program.forward
        : node.role == Role::Loss     ? program.loss
        : node.role == Role::Backward ? program.backward
                                      : program.norms;
    section.push_back(std::move(statement));
    for (Statement &copy : lowering.extra)
      section.push_back(std::move(copy));
    lowering.extra.clear();
  }
  return program;
}

} // namespace gradc
