//===- ModelTable.cpp - The model described as data -----------------------===//
//
// Doubles are printed with 17 significant digits so that the trainer
// reads back exactly the value the model file gave.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpp/ModelTable.h"

#include "codegen/cpp/SequenceEmitter.h"

#include <fmt/format.h>

#include <sstream>

namespace gradc {

static std::string shapeInitializer(const std::vector<int64_t> &dims) {
  internalCheck(dims.size() <= 4, "a shape has more than 4 axes");
  std::string text = "{";
  for (size_t i = 0; i < dims.size(); ++i)
    text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "}";
}

static std::string number(double value) {
  return fmt::format("{:.17g}", value);
}

static std::string optionalString(const std::string &text) {
  return text.empty() ? "nullptr" : cStringLiteral(text);
}

static const char *lossCode(LossKind loss) {
  switch (loss) {
  case LossKind::SoftmaxCrossEntropy:
    return "GRADC_LOSS_SOFTMAX_CROSS_ENTROPY";
  case LossKind::MeanSquaredError:
    return "GRADC_LOSS_MSE";
  case LossKind::BceWithLogits:
    return "GRADC_LOSS_BCE_WITH_LOGITS";
  }
  throw InternalError("a loss is missing from the model table's codes");
}

static int initCode(InitKind kind) {
  switch (kind) {
  case InitKind::Default:
    return 0;
  case InitKind::HeUniform:
    return 1;
  case InitKind::HeNormal:
    return 2;
  case InitKind::XavierUniform:
    return 3;
  case InitKind::XavierNormal:
    return 4;
  case InitKind::Normal:
    return 5;
  case InitKind::Uniform:
    return 6;
  case InitKind::Zeros:
    return 7;
  case InitKind::Ones:
    return 8;
  }
  return 0;
}

static const char *optimizerCode(OptimizerKind kind) {
  switch (kind) {
  case OptimizerKind::Sgd:
    return "GRADC_OPTIMIZER_SGD";
  case OptimizerKind::Adam:
    return "GRADC_OPTIMIZER_ADAM";
  case OptimizerKind::AdamW:
    return "GRADC_OPTIMIZER_ADAMW";
  }
  throw InternalError("an optimizer is missing from the model table's codes");
}

static const char *scheduleCode(ScheduleKind kind) {
  switch (kind) {
  case ScheduleKind::None:
    return "GRADC_SCHEDULE_NONE";
  case ScheduleKind::Step:
    return "GRADC_SCHEDULE_STEP";
  case ScheduleKind::Cosine:
    return "GRADC_SCHEDULE_COSINE";
  }
  throw InternalError("a schedule is missing from the model table's codes");
}

static const char *clipCode(ClipKind kind) {
  switch (kind) {
  case ClipKind::None:
    return "GRADC_CLIP_NONE";
  case ClipKind::GlobalNorm:
    return "GRADC_CLIP_GLOBAL_NORM";
  case ClipKind::Value:
    return "GRADC_CLIP_VALUE";
  }
  throw InternalError("a clip kind is missing from the model table's codes");
}

// A gradc_split: {images, labels, x, y, csv, label_column}.
static std::string splitInitializer(const SplitSpec &split) {
  return fmt::format("{{{}, {}, {}, {}, {}, {}}}",
                     optionalString(split.images),
                     optionalString(split.labels), optionalString(split.x),
                     optionalString(split.y), optionalString(split.csv),
                     split.labelColumn);
}

std::string emitModelTable(const ModelSpec &spec, const Graph &graph,
                           const MemoryPlan &plan,
                           const EmitOptions &options) {
  std::ostringstream out;

  out << "const gradc_param_info params[] = {\n";
  for (size_t i = 0; i < graph.params.size(); ++i) {
    const Param &param = graph.params[i];
    out << fmt::format("    {{{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}}},\n",
                       cStringLiteral(param.name), param.type.dims.size(),
                       shapeInitializer(param.type.dims),
                       plan.paramOffsets[i], param.type.elements(),
                       initCode(param.init.kind), number(param.init.argument),
                       param.fanIn, param.fanOut, param.layer,
                       int(param.isBuffer));
  }
  out << "};\n\n";

  out << "const gradc_layer_info layers[] = {\n";
  for (const Layer &layer : graph.layers)
    out << fmt::format("    {{{}, {}, {}, {}, {}, {}}},\n",
                       cStringLiteral(layer.name), cStringLiteral(layer.op),
                       cStringLiteral(layer.detail), layer.output.dims.size(),
                       shapeInitializer(layer.output.dims), layer.numParams);
  out << "};\n\n";

  const DataSpec &data = spec.data;
  const OptimizerSpec &opt = spec.optimizer;
  out << "const gradc_config config = {\n";
  out << fmt::format("    {}, {}, {}u, {},\n", spec.train.batch,
                     spec.train.epochs, spec.train.seed,
                     int(spec.train.shuffle));
  out << fmt::format("    {}, {}, {}, {}, {}, {}, {}, {},\n",
                     optimizerCode(opt.kind), number(opt.lr),
                     number(opt.momentum), number(opt.weightDecay),
                     int(opt.nesterov), number(opt.beta1), number(opt.beta2),
                     number(opt.eps));
  const ScheduleSpec &schedule = spec.train.schedule;
  out << fmt::format("    {}, {}, {},\n", scheduleCode(schedule.kind),
                     schedule.every, number(schedule.gamma));
  out << fmt::format("    {},\n", splitInitializer(data.train));
  out << fmt::format("    {},\n", splitInitializer(data.test));
  out << fmt::format("    {}, {}, {}, {},\n", number(data.scale),
                     int(data.normalize), number(data.mean),
                     number(data.std));
  out << fmt::format("    {}, {}, {}, {},\n", spec.log.gradEvery,
                     optionalString(spec.log.gradFile),
                     number(spec.log.vanishingBelow),
                     number(spec.log.explodingAbove));
  out << fmt::format("    {},\n", int(data.targetsAreInputs));
  out << fmt::format("    {}, {}, {},\n", clipCode(spec.passes.clip.kind),
                     number(spec.passes.clip.threshold),
                     int(spec.passes.skipNonfinite));
  out << "};\n\n";

  const TensorType &input = graph.type(graph.input);
  const TensorType &output = graph.type(graph.output);
  out << "const gradc_model model = {\n";
  out << fmt::format("    GRADC_ABI_VERSION, {}, \"cpp\", {}, {},\n",
                     cStringLiteral(graph.name),
                     cStringLiteral(options.target),
                     cStringLiteral(options.passes));
  out << fmt::format("    {}, {}, {},\n", input.dims.size(),
                     shapeInitializer(input.dims), input.elements());
  out << fmt::format("    {}, {}, {},\n", output.dims.size(),
                     shapeInitializer(output.dims), output.elements());
  out << fmt::format("    {},\n", lossCode(graph.loss));
  out << fmt::format("    {}, params, {},\n", graph.params.size(),
                     plan.paramSize);
  out << fmt::format("    {}, layers,\n", graph.layers.size());
  out << fmt::format("    {}, {},\n", plan.workspacePerSample,
                     plan.workspaceFixed);
  out << "    &config,\n";
  out << "    forwardF32, trainF32, forwardF64, trainF64,\n";
  int64_t vocabulary = inputVocabulary(graph);
  out << fmt::format("    {}, {},\n", int(vocabulary > 0), vocabulary);
  out << "};\n\n";

  out << "} // namespace\n\n";
  out << "extern \"C\" const gradc_model *gradc_get_model(void) { return "
         "&model; }\n";
  return out.str();
}

} // namespace gradc
