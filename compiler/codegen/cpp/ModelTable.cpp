//===- ModelTable.cpp - The model described as data -----------------------===//
//
// Doubles are printed with 17 significant digits so that the trainer
// reads back exactly the value the model file gave.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpp/ModelTable.h"

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

static std::string number(double value) { return fmt::format("{:.17g}", value); }

static std::string optionalString(const std::string &text) {
  return text.empty() ? "nullptr" : cStringLiteral(text);
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
  }
  return 0;
}

std::string emitModelTable(const ModelSpec &spec, const Graph &graph,
                           const MemoryPlan &plan,
                           const EmitOptions &options) {
  std::ostringstream out;

  out << "const gradc_param_info params[] = {\n";
  for (size_t i = 0; i < graph.params.size(); ++i) {
    const Param &param = graph.params[i];
    out << fmt::format("    {{{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 0}},\n",
                       cStringLiteral(param.name), param.type.dims.size(),
                       shapeInitializer(param.type.dims),
                       plan.paramOffsets[i], param.type.elements(),
                       initCode(param.init.kind), number(param.init.argument),
                       param.fanIn, param.fanOut, param.layer);
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
  out << fmt::format("    GRADC_OPTIMIZER_SGD, {}, {}, {}, {},\n",
                     number(opt.lr), number(opt.momentum),
                     number(opt.weightDecay), int(opt.nesterov));
  out << fmt::format("    {{{}, {}}},\n", optionalString(data.train.images),
                     optionalString(data.train.labels));
  out << fmt::format("    {{{}, {}}},\n", optionalString(data.test.images),
                     optionalString(data.test.labels));
  out << fmt::format("    {}, {}, {}, {},\n", number(data.scale),
                     int(data.normalize), number(data.mean),
                     number(data.std));
  out << fmt::format("    {}, {}, {}, {},\n", spec.log.gradEvery,
                     optionalString(spec.log.gradFile),
                     number(spec.log.vanishingBelow),
                     number(spec.log.explodingAbove));
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
  out << fmt::format("    {},\n", graph.loss == LossKind::SoftmaxCrossEntropy
                                      ? "GRADC_LOSS_SOFTMAX_CROSS_ENTROPY"
                                      : "GRADC_LOSS_MSE");
  out << fmt::format("    {}, params, {},\n", graph.params.size(),
                     plan.paramSize);
  out << fmt::format("    {}, layers,\n", graph.layers.size());
  out << fmt::format("    {}, {},\n", plan.workspacePerSample,
                     plan.workspaceFixed);
  out << "    &config,\n";
  out << "    forwardF32, trainF32, forwardF64, trainF64,\n";
  out << "};\n\n";

  out << "} // namespace\n\n";
  out << "extern \"C\" const gradc_model *gradc_get_model(void) { return "
         "&model; }\n";
  return out.str();
}

} // namespace gradc
