//===- ModelTable.cpp - The model described as data -----------------------===//
//
// Builds the table field by field in the order of the structs in
// runtime/include/gradc/abi.h. Doubles are carried as they are, so the
// trainer reads back exactly the value the model file gave.
//
//===----------------------------------------------------------------------===//
#include "codegen/ModelTable.h"

#include "codegen/KernelProgram.h"

#include <gradc/abi.h>

namespace gradc {

namespace {

using Kind = TableValue::Kind;

TableValue int32(int64_t value, std::string symbol = "") {
  TableValue v;
  v.kind = Kind::Int32;
  v.integer = value;
  v.symbol = std::move(symbol);
  return v;
}

TableValue int64(int64_t value) {
  TableValue v;
  v.kind = Kind::Int64;
  v.integer = value;
  return v;
}

TableValue uint64(uint64_t value) {
  TableValue v;
  v.kind = Kind::UInt64;
  v.unsignedInteger = value;
  return v;
}

TableValue real(double value) {
  TableValue v;
  v.kind = Kind::Double;
  v.real = value;
  return v;
}

TableValue string(const std::string &text) {
  TableValue v;
  v.kind = Kind::String;
  v.text = text;
  return v;
}

// A path the model file may leave out: NULL then.
TableValue optionalString(const std::string &text) {
  if (!text.empty())
    return string(text);
  TableValue v;
  v.kind = Kind::Null;
  return v;
}

TableValue reference(Kind kind, const std::string &name) {
  TableValue v;
  v.kind = kind;
  v.text = name;
  return v;
}

TableValue aggregate(Kind kind, std::vector<TableValue> elements) {
  TableValue v;
  v.kind = kind;
  v.elements = std::move(elements);
  return v;
}

// int64_t shape[GRADC_MAX_RANK], zero past the rank.
TableValue shape(const std::vector<int64_t> &dims) {
  internalCheck(dims.size() <= 4, "a shape has more than 4 axes");
  std::vector<TableValue> axes;
  for (size_t i = 0; i < 4; ++i)
    axes.push_back(int64(i < dims.size() ? dims[i] : 0));
  return aggregate(Kind::Array, std::move(axes));
}

TableValue lossCode(LossKind loss) {
  switch (loss) {
  case LossKind::SoftmaxCrossEntropy:
    return int32(0, "GRADC_LOSS_SOFTMAX_CROSS_ENTROPY");
  case LossKind::MeanSquaredError:
    return int32(1, "GRADC_LOSS_MSE");
  case LossKind::BceWithLogits:
    return int32(2, "GRADC_LOSS_BCE_WITH_LOGITS");
  }
  throw InternalError("a loss is missing from the model table's codes");
}

TableValue initCode(InitKind kind) {
  switch (kind) {
  case InitKind::Default:
    return int32(0, "GRADC_INIT_DEFAULT");
  case InitKind::HeUniform:
    return int32(1, "GRADC_INIT_HE_UNIFORM");
  case InitKind::HeNormal:
    return int32(2, "GRADC_INIT_HE_NORMAL");
  case InitKind::XavierUniform:
    return int32(3, "GRADC_INIT_XAVIER_UNIFORM");
  case InitKind::XavierNormal:
    return int32(4, "GRADC_INIT_XAVIER_NORMAL");
  case InitKind::Normal:
    return int32(5, "GRADC_INIT_NORMAL");
  case InitKind::Uniform:
    return int32(6, "GRADC_INIT_UNIFORM");
  case InitKind::Zeros:
    return int32(7, "GRADC_INIT_ZEROS");
  case InitKind::Ones:
    return int32(8, "GRADC_INIT_ONES");
  }
  throw InternalError("an init is missing from the model table's codes");
}

TableValue optimizerCode(OptimizerKind kind) {
  switch (kind) {
  case OptimizerKind::Sgd:
    return int32(0, "GRADC_OPTIMIZER_SGD");
  case OptimizerKind::Adam:
    return int32(1, "GRADC_OPTIMIZER_ADAM");
  case OptimizerKind::AdamW:
    return int32(2, "GRADC_OPTIMIZER_ADAMW");
  }
  throw InternalError("an optimizer is missing from the model table's codes");
}

TableValue scheduleCode(ScheduleKind kind) {
  switch (kind) {
  case ScheduleKind::None:
    return int32(0, "GRADC_SCHEDULE_NONE");
  case ScheduleKind::Step:
    return int32(1, "GRADC_SCHEDULE_STEP");
  case ScheduleKind::Cosine:
    return int32(2, "GRADC_SCHEDULE_COSINE");
  }
  throw InternalError("a schedule is missing from the model table's codes");
}

TableValue clipCode(ClipKind kind) {
  switch (kind) {
  case ClipKind::None:
    return int32(0, "GRADC_CLIP_NONE");
  case ClipKind::GlobalNorm:
    return int32(1, "GRADC_CLIP_GLOBAL_NORM");
  case ClipKind::Value:
    return int32(2, "GRADC_CLIP_VALUE");
  }
  throw InternalError("a clip kind is missing from the model table's codes");
}

// gradc_split: images, labels, x, y, csv, label_column.
TableValue split(const SplitSpec &split) {
  return aggregate(Kind::Struct,
                   {optionalString(split.images), optionalString(split.labels),
                    optionalString(split.x), optionalString(split.y),
                    optionalString(split.csv), int64(split.labelColumn)});
}

TableValue paramTable(const Graph &graph, const MemoryPlan &plan) {
  std::vector<TableValue> params;
  for (size_t i = 0; i < graph.params.size(); ++i) {
    const Param &param = graph.params[i];
    params.push_back(aggregate(
        Kind::Struct,
        {string(param.name), int32(param.type.dims.size()),
         shape(param.type.dims), int64(plan.paramOffsets[i]),
         int64(param.type.elements()), initCode(param.init.kind),
         real(param.init.argument), int64(param.fanIn), int64(param.fanOut),
         int32(param.layer), int32(param.isBuffer)}));
  }
  return aggregate(Kind::Array, std::move(params));
}

TableValue layerTable(const Graph &graph) {
  std::vector<TableValue> layers;
  for (const Layer &layer : graph.layers)
    layers.push_back(aggregate(
        Kind::Struct, {string(layer.name), string(layer.op),
                       string(layer.detail), int32(layer.output.dims.size()),
                       shape(layer.output.dims), int64(layer.numParams)}));
  return aggregate(Kind::Array, std::move(layers));
}

TableValue config(const ModelSpec &spec) {
  const DataSpec &data = spec.data;
  const OptimizerSpec &opt = spec.optimizer;
  const ScheduleSpec &schedule = spec.train.schedule;
  return aggregate(
      Kind::Struct,
      {int64(spec.train.batch), int64(spec.train.epochs),
       uint64(spec.train.seed), int32(spec.train.shuffle),
       optimizerCode(opt.kind), real(opt.lr), real(opt.momentum),
       real(opt.weightDecay), int32(opt.nesterov), real(opt.beta1),
       real(opt.beta2), real(opt.eps), scheduleCode(schedule.kind),
       int64(schedule.every), real(schedule.gamma), split(data.train),
       split(data.test), real(data.scale), int32(data.normalize),
       real(data.mean), real(data.std), int64(spec.log.gradEvery),
       optionalString(spec.log.gradFile), real(spec.log.vanishingBelow),
       real(spec.log.explodingAbove), int32(data.targetsAreInputs),
       clipCode(spec.passes.clip.kind), real(spec.passes.clip.threshold),
       int32(spec.passes.skipNonfinite)});
}

// Ops that tie a sample's result to its place in the batch: BatchNorm
// computes statistics over the batch, and dropout draws its mask by
// position from the call's seed, so a part of a batch would redraw the
// first part's mask.
bool tiesSamples(OpKind op) {
  switch (op) {
  case OpKind::BatchNormStats:
  case OpKind::BatchNormApply:
  case OpKind::BatchNormInputGrad:
  case OpKind::BatchNormStatsGrad:
  case OpKind::BatchNormStatsInputGrad:
  case OpKind::BatchNormWeightGrad:
  case OpKind::Dropout:
  case OpKind::DropoutGrad:
    return true;
  default:
    return false;
  }
}

bool batchSeparable(const Graph &graph) {
  for (const Node &node : graph.nodes)
    if (tiesSamples(node.op))
      return false;
  return true;
}

// The multiply-adds per sample of each matrix product of the step.
std::vector<int64_t> productMacsPerSample(const Graph &graph) {
  std::vector<int64_t> macs;
  for (const Node &node : graph.nodes) {
    if (node.inputs.size() != 2 || !graph.type(node.inputs[0]).batched)
      continue;
    const TensorType &a = graph.type(node.inputs[0]);
    const TensorType &b = graph.type(node.inputs[1]);
    const int64_t rowsPerSample = a.elements() / a.lastDim();
    if (node.op == OpKind::MatMulNT || node.op == OpKind::MatMulNN)
      macs.push_back(rowsPerSample * b.dims[0] * b.dims[1]);
    else if (node.op == OpKind::MatMulTN)
      macs.push_back(rowsPerSample * a.lastDim() * b.lastDim());
  }
  return macs;
}

} // namespace

std::vector<TableGlobal> buildModelTable(const ModelSpec &spec,
                                         const Graph &graph,
                                         const MemoryPlan &plan,
                                         const EmitOptions &options) {
  const TensorType &input = graph.type(graph.input);
  const TensorType &output = graph.type(graph.output);
  int64_t vocabulary = inputVocabulary(graph);

  std::vector<TableValue> model = {
      int32(GRADC_ABI_VERSION, "GRADC_ABI_VERSION"),
      string(graph.name),
      string(options.backend),
      string(options.target),
      string(options.passes),
      int32(input.dims.size()),
      shape(input.dims),
      int64(input.elements()),
      int32(output.dims.size()),
      shape(output.dims),
      int64(output.elements()),
      lossCode(graph.loss),
      int32(graph.params.size()),
      reference(Kind::Global, "params"),
      int64(plan.paramSize),
      int32(graph.layers.size()),
      reference(Kind::Global, "layers"),
      int64(plan.workspacePerSample),
      int64(plan.workspaceFixed),
      reference(Kind::Global, "config"),
  };
  for (const char *entry : EntryPoints)
    model.push_back(reference(Kind::Function, entry));
  model.push_back(int32(vocabulary > 0));
  model.push_back(int64(vocabulary));

  // The workspace's lower bound: num_live_peaks, then live_peaks, an
  // int64_t array of (per sample, fixed) pairs, or NULL when there are none.
  std::vector<TableValue> peaks;
  for (const LiveTotal &peak : plan.livePeaks) {
    peaks.push_back(int64(peak.perSample));
    peaks.push_back(int64(peak.fixed));
  }
  model.push_back(int32(plan.livePeaks.size()));
  model.push_back(peaks.empty() ? optionalString("")
                                : reference(Kind::Global, "live_peaks"));

  std::vector<TableValue> products;
  for (int64_t macs : productMacsPerSample(graph))
    products.push_back(int64(macs));
  model.push_back(int32(batchSeparable(graph)));
  model.push_back(int32(products.size()));
  model.push_back(products.empty() ? optionalString("")
                                   : reference(Kind::Global, "product_macs"));

  std::vector<TableGlobal> table = {
      {"params", "gradc_param_info", paramTable(graph, plan)},
      {"layers", "gradc_layer_info", layerTable(graph)},
      {"config", "gradc_config", config(spec)}};
  if (!peaks.empty())
    table.push_back(
        {"live_peaks", "int64_t", aggregate(Kind::Array, std::move(peaks))});
  if (!products.empty())
    table.push_back({"product_macs", "int64_t",
                     aggregate(Kind::Array, std::move(products))});
  table.push_back(
      {"model", "gradc_model", aggregate(Kind::Struct, std::move(model))});
  return table;
}

} // namespace gradc
