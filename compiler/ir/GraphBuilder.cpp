//===- GraphBuilder.cpp - ModelSpec to forward graph ----------------------===//
//
// Walks the layers in order, adding the nodes of each, then the loss.
// Sizes are multiplied in 128-bit arithmetic so that an absurd model is
// reported as absurd instead of wrapping around to a plausible number.
//
//===----------------------------------------------------------------------===//
#include "ir/GraphBuilder.h"

#include "frontend/IdxHeader.h"

#include <limits>

namespace gradc {

namespace {

std::string withCommas(__int128 value) {
  if (value > std::numeric_limits<int64_t>::max())
    return "more than 9.2e18";
  std::string digits = std::to_string(static_cast<int64_t>(value));
  std::string text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      text += ',';
    text += digits[i];
  }
  return text;
}

std::string shapeText(const std::vector<int64_t> &dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

class GraphBuilder {
public:
  explicit GraphBuilder(const ModelSpec &spec) : spec(spec) {}

  Graph build();

private:
  NodeId addLayer(const LayerSpec &layer, NodeId x);
  NodeId addDense(const LayerSpec &layer, NodeId x);
  NodeId addActivation(const std::string &activation, NodeId x,
                       const std::string &layer);
  int addParam(const LayerSpec &layer, const std::string &suffix,
               std::vector<int64_t> shape, int64_t fanIn, int64_t fanOut);
  void checkSize(const SourceLoc &loc, const std::string &what,
                 const std::vector<int64_t> &dims, bool batched);
  void addLoss();
  void checkData(const SplitSpec &split, const std::string &splitName);

  const ModelSpec &spec;
  Graph graph;
  __int128 totalBytes = 0;
};

} // namespace

void GraphBuilder::checkSize(const SourceLoc &loc, const std::string &what,
                             const std::vector<int64_t> &dims, bool batched) {
  __int128 elements = batched ? spec.train.batch : 1;
  for (int64_t dim : dims) {
    elements *= dim;
    if (elements > MaxTensorElements)
      break;
  }
  std::string shape = batched ? "batch " + std::to_string(spec.train.batch) +
                                    " x " + shapeText(dims)
                              : shapeText(dims);
  if (elements > MaxTensorElements)
    userError(loc, what + " would have " + withCommas(elements) +
                       " elements (" + shape + "), more than the limit of "
                       "2^31");

  // Parameters are held three times (values, gradients, optimizer state);
  // activations twice (values and gradients).
  totalBytes += elements * 4 * (batched ? 2 : 3);
  if (totalBytes > MaxModelBytes)
    userError(loc, "the model needs more than 16 GiB at batch " +
                       std::to_string(spec.train.batch) + " once " + what +
                       " " + shape + " is added",
              "use fewer or narrower layers, or a smaller batch");
}

int GraphBuilder::addParam(const LayerSpec &layer, const std::string &suffix,
                           std::vector<int64_t> shape, int64_t fanIn,
                           int64_t fanOut) {
  std::string name = layer.name + "." + suffix;
  checkSize(layer.loc, "'" + name + "'", shape, false);

  Param param;
  param.name = name;
  param.type = fixedType(std::move(shape));
  param.layer = static_cast<int>(graph.layers.size());
  param.init = layer.init;
  param.fanIn = fanIn;
  param.fanOut = fanOut;
  param.node = graph.addTyped(OpKind::Parameter, {}, param.type,
                              Role::Forward, layer.name);
  int index = static_cast<int>(graph.params.size());
  graph.nodes[param.node].param = index;
  graph.params.push_back(std::move(param));
  return index;
}

NodeId GraphBuilder::addActivation(const std::string &activation, NodeId x,
                                   const std::string &layer) {
  if (activation == "relu")
    return graph.add(OpKind::Relu, {x}, Role::Forward, layer);
  if (activation == "sigmoid")
    return graph.add(OpKind::Sigmoid, {x}, Role::Forward, layer);
  if (activation == "tanh")
    return graph.add(OpKind::Tanh, {x}, Role::Forward, layer);
  throw InternalError("activation '" + activation + "' passed the parser");
}

NodeId GraphBuilder::addDense(const LayerSpec &layer, NodeId x) {
  int64_t in = graph.type(x).lastDim();
  int weight = addParam(layer, "weight", {layer.units, in}, in, layer.units);
  NodeId y = graph.add(OpKind::MatMulNT, {x, graph.params[weight].node},
                       Role::Forward, layer.name);
  if (layer.bias) {
    // PyTorch draws a linear layer's default bias from the weight's fan-in.
    int bias = addParam(layer, "bias", {layer.units}, in, layer.units);
    y = graph.add(OpKind::BiasAdd, {y, graph.params[bias].node},
                  Role::Forward, layer.name);
  }
  checkSize(layer.loc, "the output of layer '" + layer.name + "'",
            graph.type(y).dims, true);
  if (!layer.activation.empty())
    y = addActivation(layer.activation, y, layer.name);
  return y;
}

NodeId GraphBuilder::addLayer(const LayerSpec &layer, NodeId x) {
  if (layer.op == "dense")
    return addDense(layer, x);
  if (layer.op == "flatten")
    return graph.addTyped(OpKind::Reshape, {x},
                          batchedType({graph.type(x).elements()}),
                          Role::Forward, layer.name);
  return addActivation(layer.op, x, layer.name);
}

void GraphBuilder::addLoss() {
  const Layer &last = graph.layers.back();
  const TensorType &output = graph.type(graph.output);

  if (spec.loss == LossKind::SoftmaxCrossEntropy) {
    if (output.dims.size() != 1 || output.dims[0] < 2)
      userError(spec.lossLoc,
                "'softmax_cross_entropy' needs one score per class, a shape "
                "[classes] with at least 2 classes, but the last layer '" +
                    last.name + "' gives " + output.str(),
                output.dims.size() > 1 ? "add a flatten layer before the "
                                         "last dense layer"
                                       : "");
    graph.labels = graph.addTyped(OpKind::Labels, {}, batchedType({}),
                                  Role::Loss, "");
    graph.lossNode =
        graph.add(OpKind::SoftmaxCrossEntropy, {graph.output, graph.labels},
                  Role::Loss, "");
    return;
  }

  graph.targets =
      graph.addTyped(OpKind::Targets, {}, output, Role::Loss, "");
  graph.lossNode = graph.add(OpKind::MeanSquaredError,
                             {graph.output, graph.targets}, Role::Loss, "");
}

void GraphBuilder::checkData(const SplitSpec &split,
                             const std::string &splitName) {
  if (split.images.empty())
    return;

  std::string why;
  auto images = readIdxSummary(split.images, false, why);
  if (!images)
    userError(spec.inputLoc, "data." + splitName + ".images '" +
                                 split.images + "' cannot be used: " + why);
  int64_t perSample = 1;
  for (size_t i = 1; i < images->dims.size(); ++i)
    perSample *= images->dims[i];
  int64_t inputElements = graph.type(graph.input).elements();
  if (perSample != inputElements)
    userError(spec.inputLoc,
              "'input' is " + shapeText(spec.input) + " (" +
                  std::to_string(inputElements) + " values), but each "
                  "sample of data." + splitName + ".images has " +
                  std::to_string(perSample) + " values");

  auto labels = readIdxSummary(split.labels, true, why);
  if (!labels)
    userError(spec.inputLoc, "data." + splitName + ".labels '" +
                                 split.labels + "' cannot be used: " + why);
  if (labels->dims[0] != images->dims[0])
    userError(spec.inputLoc, "data." + splitName + " has " +
                                 std::to_string(images->dims[0]) +
                                 " images but " +
                                 std::to_string(labels->dims[0]) + " labels");

  int64_t classes = graph.type(graph.output).elements();
  if (labels->largestByte >= classes)
    userError(spec.lossLoc,
              "the labels of data." + splitName + " go up to " +
                  std::to_string(labels->largestByte) +
                  ", but the last layer '" + graph.layers.back().name +
                  "' has only " + std::to_string(classes) + " outputs");
}

Graph GraphBuilder::build() {
  graph.name = spec.name;
  graph.loss = spec.loss;

  checkSize(spec.inputLoc, "the input", spec.input, true);
  NodeId x = graph.addTyped(OpKind::Input, {}, batchedType(spec.input),
                            Role::Forward, "");
  graph.input = x;

  for (const LayerSpec &layerSpec : spec.layers) {
    size_t firstParam = graph.params.size();
    x = addLayer(layerSpec, x);

    Layer layer;
    layer.name = layerSpec.name;
    layer.op = layerSpec.op;
    layer.output = graph.type(x);
    layer.loc = layerSpec.loc;
    if (layerSpec.op == "dense") {
      layer.detail = "units=" + std::to_string(layerSpec.units);
      if (!layerSpec.bias)
        layer.detail += " bias=false";
      if (!layerSpec.activation.empty())
        layer.detail += " activation=" + layerSpec.activation;
    }
    for (size_t i = firstParam; i < graph.params.size(); ++i)
      layer.numParams += graph.params[i].type.elements();
    graph.layers.push_back(std::move(layer));
  }

  if (graph.params.empty())
    userError(spec.layers.front().loc, "the model has nothing to train",
              "add a layer with parameters, such as {op: dense, units: 10}");
  graph.output = x;
  addLoss();
  checkData(spec.data.train, "train");
  checkData(spec.data.test, "test");
  return std::move(graph);
}

Graph buildForwardGraph(const ModelSpec &spec) {
  return GraphBuilder(spec).build();
}

} // namespace gradc
