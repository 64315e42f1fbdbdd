//===- GraphBuilder.cpp - ModelSpec to forward graph ----------------------===//
//
// Walks the layers in order, adding the nodes of each, then the loss.
// Sizes are multiplied in 128-bit arithmetic so that an absurd model is
// reported as absurd instead of wrapping around to a plausible number.
//
//===----------------------------------------------------------------------===//
#include "ir/GraphBuilder.h"

#include "ir/GraphBuilderImpl.h"

#include "frontend/IdxHeader.h"
#include "frontend/YamlReader.h"
#include "ir/ArrayDataCheck.h"
#include "ir/ConvLayers.h"

#include <limits>
#include <map>
#include <set>
#include <sstream>

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

// The settings `info` shows for a layer of the elementwise family, or for
// a dense layer's leaky_relu or elu activation: "alpha=0.2", "rate=0.5".
std::string elementwiseFamilyDetail(const LayerSpec &layer) {
  std::ostringstream text;
  const std::string &function =
      layer.op == "dense" ? layer.activation : layer.op;
  if (function == "leaky_relu" || function == "elu")
    text << "alpha=" << layer.alpha;
  if (layer.op == "dropout")
    text << "rate=" << layer.rate;
  if (layer.op == "layernorm")
    text << "eps=" << layer.eps;
  return text.str();
}

} // namespace

void detail::GraphBuilder::checkSize(const SourceLoc &loc,
                                     const std::string &what,
                                     const std::vector<int64_t> &dims,
                                     bool batched) {
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
                       " elements (" + shape +
                       "), more than the limit of "
                       "2^31");

  // Parameters are held three times (values, gradients, optimizer state);
  // activations twice (values and gradients).
  totalBytes += elements * 4 * (batched ? 2 : 3);
  if (totalBytes > MaxModelBytes)
    userError(loc,
              "the model needs more than 16 GiB at batch " +
                  std::to_string(spec.train.batch) + " once " + what + " " +
                  shape + " is added",
              "use fewer or narrower layers, or a smaller batch");
}

int detail::GraphBuilder::addParam(const LayerSpec &layer,
                                   const std::string &suffix,
                                   std::vector<int64_t> shape, int64_t fanIn,
                                   int64_t fanOut) {
  std::string name = layer.name + "." + suffix;
  checkSize(layer.loc, "'" + name + "'", shape, false);

  Param param;
  param.name = name;
  param.type = fixedType(std::move(shape));
  param.layer = currentLayer;
  // `init:` chooses the weights' initializer, as Keras's
  // kernel_initializer does; biases keep PyTorch's default, since the
  // he and xavier rules have no meaning for a vector.
  param.init = suffix == "bias" ? InitSpec{} : layer.init;
  param.fanIn = fanIn;
  param.fanOut = fanOut;
  param.node = graph.addTyped(OpKind::Parameter, {}, param.type, Role::Forward,
                              layer.name);
  int index = static_cast<int>(graph.params.size());
  graph.nodes[param.node].param = index;
  graph.params.push_back(std::move(param));
  return index;
}

NodeId detail::GraphBuilder::addActivation(const std::string &activation,
                                           NodeId x, const std::string &layer,
                                           std::optional<double> alpha) {
  if (activation == "relu")
    return graph.add(OpKind::Relu, {x}, Role::Forward, layer);
  if (activation == "sigmoid")
    return graph.add(OpKind::Sigmoid, {x}, Role::Forward, layer);
  if (activation == "tanh")
    return graph.add(OpKind::Tanh, {x}, Role::Forward, layer);
  if (activation == "leaky_relu")
    return graph.add(OpKind::LeakyRelu, {x}, Role::Forward, layer,
                     {{"alpha", alpha.value_or(0.01)}});
  if (activation == "elu")
    return graph.add(OpKind::Elu, {x}, Role::Forward, layer,
                     {{"alpha", alpha.value_or(1.0)}});
  if (activation == "gelu")
    return graph.add(OpKind::Gelu, {x}, Role::Forward, layer);
  if (activation == "softplus")
    return graph.add(OpKind::Softplus, {x}, Role::Forward, layer);
  if (activation == "softmax")
    return graph.add(OpKind::Softmax, {x}, Role::Forward, layer);
  throw InternalError("activation '" + activation + "' passed the parser");
}

NodeId detail::GraphBuilder::addDense(const LayerSpec &layer, NodeId x) {
  int64_t in = graph.type(x).lastDim();
  int weight = addParam(layer, "weight", {layer.units, in}, in, layer.units);
  NodeId y = graph.add(OpKind::MatMulNT, {x, graph.params[weight].node},
                       Role::Forward, layer.name);
  if (layer.bias) {
    // PyTorch draws a linear layer's default bias from the weight's fan-in.
    int bias = addParam(layer, "bias", {layer.units}, in, layer.units);
    y = graph.add(OpKind::BiasAdd, {y, graph.params[bias].node}, Role::Forward,
                  layer.name);
  }
  checkSize(layer.loc, "the output of layer '" + layer.name + "'",
            graph.type(y).dims, true);
  if (!layer.activation.empty())
    y = addActivation(layer.activation, y, layer.name, layer.alpha);
  return y;
}

// Normalizes the last axis, whatever the rank, as torch.nn.LayerNorm(N)
// does; weight and bias start at 1 and 0, PyTorch's identity start.
NodeId detail::GraphBuilder::addLayerNorm(const LayerSpec &layer, NodeId x) {
  int64_t features = graph.type(x).lastDim();
  int weight = addFixedParam(layer, "weight", features, InitKind::Ones, false);
  int bias = addFixedParam(layer, "bias", features, InitKind::Zeros, false);
  return graph.add(OpKind::LayerNorm,
                   {x, graph.params[weight].node, graph.params[bias].node},
                   Role::Forward, layer.name, {{"eps", layer.eps}});
}

std::string detail::GraphBuilder::inputDescription() const {
  if (previousLayer.empty())
    return "(the model input)";
  return "(the output of layer '" + previousLayer + "')";
}

int detail::GraphBuilder::addFixedParam(const LayerSpec &layer,
                                        const std::string &suffix, int64_t size,
                                        InitKind init, bool isBuffer) {
  int index = addParam(layer, suffix, {size}, size, size);
  graph.params[index].init = InitSpec{init, 0};
  graph.params[index].isBuffer = isBuffer;
  return index;
}

NodeId detail::GraphBuilder::addBatchNorm(const LayerSpec &layer, NodeId x) {
  const TensorType &type = graph.type(x);
  if (type.dims.size() != 1 && type.dims.size() != 3)
    userError(layer.loc,
              "batchnorm normalizes [features] or [channels, height, "
              "width], but its input " +
                  inputDescription() + " is " + type.str());

  // PyTorch's BatchNorm starts as the identity: weight 1, bias 0, and
  // running statistics of a standard normal.
  int64_t channels = channelCount(type);
  int weight = addFixedParam(layer, "weight", channels, InitKind::Ones, false);
  int bias = addFixedParam(layer, "bias", channels, InitKind::Zeros, false);
  int mean =
      addFixedParam(layer, "running_mean", channels, InitKind::Zeros, true);
  int var = addFixedParam(layer, "running_var", channels, InitKind::Ones, true);

  NodeId stats = graph.add(OpKind::BatchNormStats,
                           {x, graph.params[mean].node, graph.params[var].node},
                           Role::Forward, layer.name,
                           {{"eps", layer.eps}, {"momentum", layer.momentum}});
  NodeId y =
      graph.add(OpKind::BatchNormApply,
                {x, stats, graph.params[weight].node, graph.params[bias].node},
                Role::Forward, layer.name);

  // The batchnorm pass moves a layer's activation after its normalization.
  if (!layer.activation.empty())
    y = addActivation(layer.activation, y, layer.name, layer.alpha);
  return y;
}

// PyTorch's Conv2d draws weight and bias alike from U(-b, b), b =
// 1/sqrt(fan_in), with fan_in = in_channels * k * k.
NodeId detail::GraphBuilder::addConv2d(const LayerSpec &layer, NodeId x) {
  Attrs attrs = convLayerAttrs(layer, graph.type(x), inputDescription());
  int64_t channels = graph.type(x).dims[0];
  int weight =
      addParam(layer, "weight",
               {layer.filters, channels, layer.kernel, layer.kernel}, 0, 0);
  // addParam has checked that the weight has at most 2^31 elements, so
  // these products cannot overflow.
  int64_t fanIn = channels * layer.kernel * layer.kernel;
  int64_t fanOut = layer.filters * layer.kernel * layer.kernel;
  graph.params[weight].fanIn = fanIn;
  graph.params[weight].fanOut = fanOut;

  NodeId y = graph.add(OpKind::Conv2d, {x, graph.params[weight].node},
                       Role::Forward, layer.name, attrs);
  if (layer.bias) {
    int bias = addParam(layer, "bias", {layer.filters}, fanIn, fanOut);
    y = graph.add(OpKind::ChannelBiasAdd, {y, graph.params[bias].node},
                  Role::Forward, layer.name);
  }
  const std::vector<int64_t> &output = graph.type(y).dims;
  checkSize(layer.loc, "the output of layer '" + layer.name + "'", output,
            true);
  // The kernels unfold one sample's input into a matrix [C*k*k, OH*OW].
  checkSize(layer.loc, "the unfolded input of layer '" + layer.name + "'",
            {fanIn, output[1] * output[2]}, false);
  if (!layer.activation.empty())
    y = addActivation(layer.activation, y, layer.name, layer.alpha);
  return y;
}

NodeId detail::GraphBuilder::addPool2d(const LayerSpec &layer, NodeId x) {
  Attrs attrs = convLayerAttrs(layer, graph.type(x), inputDescription());
  OpKind op = layer.op == "maxpool2d" ? OpKind::MaxPool2d : OpKind::AvgPool2d;
  NodeId y = graph.add(op, {x}, Role::Forward, layer.name, attrs);
  checkSize(layer.loc, "the output of layer '" + layer.name + "'",
            graph.type(y).dims, true);
  return y;
}

// rnn and lstm, with torch.nn.RNN's and torch.nn.LSTM's parameters. The
// input projection of every step is one product, pre = x W_ih^T + b_ih +
// b_hh, [T, G*H] for G gates; the scan op then walks the steps with the
// shared W_hh.
NodeId detail::GraphBuilder::addRecurrent(const LayerSpec &layer, NodeId x) {
  const TensorType &input = graph.type(x);
  if (input.dims.size() != 2) {
    std::string hint;
    if (x == graph.input && input.dims.size() == 1)
      hint = "for " + std::to_string(input.dims[0]) +
             " steps of one value, write input: [" +
             std::to_string(input.dims[0]) +
             ", 1]; for ids, start with an embedding layer";
    else if (graph.node(x).op == OpKind::LastStep)
      hint = "give layer '" + previousLayer +
             "' return: sequence, so that it passes on every step";
    userError(layer.loc,
              "'" + layer.op +
                  "' needs a sequence [steps, features] per "
                  "sample, but its input " +
                  inputDescription() + " is " + shapeText(input.dims),
              hint);
  }

  int64_t features = input.dims[1];
  int64_t hidden = layer.hidden;
  bool lstm = layer.op == "lstm";
  int64_t rows = (lstm ? 4 : 1) * hidden;
  // PyTorch draws every weight and bias of nn.RNN and nn.LSTM from
  // U(-1/sqrt(H), 1/sqrt(H)). With fan_in set to H, the runtime's default
  // initializer, U(+-1/sqrt(fan_in)), draws exactly that.
  int weightIh = addParam(layer, "weight_ih", {rows, features}, hidden, rows);
  int weightHh = addParam(layer, "weight_hh", {rows, hidden}, hidden, rows);
  int biasIh = addParam(layer, "bias_ih", {rows}, hidden, rows);
  int biasHh = addParam(layer, "bias_hh", {rows}, hidden, rows);

  NodeId pre = graph.add(OpKind::MatMulNT, {x, graph.params[weightIh].node},
                         Role::Forward, layer.name);
  pre = graph.add(OpKind::BiasAdd, {pre, graph.params[biasIh].node},
                  Role::Forward, layer.name);
  pre = graph.add(OpKind::BiasAdd, {pre, graph.params[biasHh].node},
                  Role::Forward, layer.name);
  checkSize(layer.loc, "the input projection of layer '" + layer.name + "'",
            graph.type(pre).dims, true);

  NodeId whh = graph.params[weightHh].node;
  NodeId h;
  if (lstm) {
    NodeId state =
        graph.add(OpKind::LstmScan, {pre, whh}, Role::Forward, layer.name);
    checkSize(layer.loc, "the state of layer '" + layer.name + "'",
              graph.type(state).dims, true);
    h = graph.add(OpKind::LstmHidden, {state}, Role::Forward, layer.name);
  } else {
    OpKind scan =
        layer.recurrence == "relu" ? OpKind::RnnReluScan : OpKind::RnnTanhScan;
    h = graph.add(scan, {pre, whh}, Role::Forward, layer.name);
  }
  checkSize(layer.loc, "the hidden states of layer '" + layer.name + "'",
            graph.type(h).dims, true);
  if (layer.returnSequence)
    return h;
  return graph.add(OpKind::LastStep, {h}, Role::Forward, layer.name);
}

// torch.nn.Embedding. The ids come from the model input, where the trainer
// passes them as floats, so nothing but the input can feed this layer.
NodeId detail::GraphBuilder::addEmbedding(const LayerSpec &layer, NodeId x) {
  if (x != graph.input)
    userError(layer.loc,
              "'embedding' must be the first layer, since it reads "
              "integer ids from the model input, but it follows layer '" +
                  previousLayer + "'",
              "move the embedding to the top of 'layers'");
  const TensorType &input = graph.type(x);
  if (input.dims.size() != 1)
    userError(layer.loc,
              "'embedding' reads a sample of integer ids [steps], but the "
              "model input is " +
                  shapeText(input.dims),
              "write the input as the number of ids per sample, such as "
              "input: [" +
                  std::to_string(input.elements()) + "]");

  int weight = addParam(layer, "weight", {layer.vocab, layer.dim}, layer.dim,
                        layer.vocab);
  // PyTorch's nn.Embedding draws its weight from N(0, 1).
  if (layer.init.kind == InitKind::Default)
    graph.params[weight].init = InitSpec{InitKind::Normal, 1};
  NodeId y = graph.add(OpKind::Embedding, {x, graph.params[weight].node},
                       Role::Forward, layer.name);
  checkSize(layer.loc, "the output of layer '" + layer.name + "'",
            graph.type(y).dims, true);
  return y;
}

NodeId detail::GraphBuilder::addLayer(const LayerSpec &layer, NodeId x) {
  if (layer.op == "add" || layer.op == "mul" || layer.op == "concat")
    return addCombination(layer);
  if (layer.op == "residual")
    return addResidual(layer, x);
  if (layer.op == "rnn" || layer.op == "lstm")
    return addRecurrent(layer, x);
  if (layer.op == "embedding")
    return addEmbedding(layer, x);
  if (layer.op == "conv2d")
    return addConv2d(layer, x);
  if (layer.op == "maxpool2d" || layer.op == "avgpool2d")
    return addPool2d(layer, x);
  if (layer.op == "batchnorm")
    return addBatchNorm(layer, x);
  if (layer.op == "dense")
    return addDense(layer, x);
  if (layer.op == "flatten")
    return graph.addTyped(OpKind::Reshape, {x},
                          batchedType({graph.type(x).elements()}),
                          Role::Forward, layer.name);
  if (layer.op == "dropout")
    return graph.add(OpKind::Dropout, {x}, Role::Forward, layer.name,
                     {{"rate", layer.rate}});
  if (layer.op == "layernorm")
    return addLayerNorm(layer, x);
  return addActivation(layer.op, x, layer.name, layer.alpha);
}

void detail::GraphBuilder::addLoss() {
  const TensorType &output = graph.type(graph.output);

  if (spec.loss == LossKind::SoftmaxCrossEntropy) {
    if (output.dims.size() != 1 || output.dims[0] < 2)
      userError(spec.lossLoc,
                "'softmax_cross_entropy' needs one score per class, a shape "
                "[classes] with at least 2 classes, but the last layer '" +
                    previousLayer + "' gives " + output.str(),
                output.dims.size() > 1 ? "add a flatten layer before the "
                                         "last dense layer"
                                       : "");
    graph.labels =
        graph.addTyped(OpKind::Labels, {}, batchedType({}), Role::Loss, "");
    graph.lossNode = graph.add(OpKind::SoftmaxCrossEntropy,
                               {graph.output, graph.labels}, Role::Loss, "");
    return;
  }

  graph.targets = graph.addTyped(OpKind::Targets, {}, output, Role::Loss, "");
  OpKind loss = spec.loss == LossKind::BceWithLogits ? OpKind::BceWithLogits
                                                     : OpKind::MeanSquaredError;
  graph.lossNode =
      graph.add(loss, {graph.output, graph.targets}, Role::Loss, "");
}

void detail::GraphBuilder::checkData(const SplitSpec &split,
                                     const std::string &splitName) {
  // Files that are not there cannot be read; the parser has their errors
  // for when the data are needed.
  if (!split.missingFiles.empty())
    return;
  if (!split.x.empty() || !split.csv.empty()) {
    checkArrayData(spec, split, splitName,
                   {graph.type(graph.input).elements(),
                    graph.type(graph.output).elements(), previousLayer});
    return;
  }
  if (split.images.empty())
    return;

  std::string why;
  auto images = readIdxSummary(split.images, false, why);
  if (!images)
    userError(spec.inputLoc, "data." + splitName + ".images '" + split.images +
                                 "' cannot be used: " + why);
  int64_t perSample = 1;
  for (size_t i = 1; i < images->dims.size(); ++i)
    perSample *= images->dims[i];
  int64_t inputElements = graph.type(graph.input).elements();
  if (perSample != inputElements)
    userError(spec.inputLoc, "'input' is " + shapeText(spec.input) + " (" +
                                 std::to_string(inputElements) +
                                 " values), but each "
                                 "sample of data." +
                                 splitName + ".images has " +
                                 std::to_string(perSample) + " values");

  auto labels = readIdxSummary(split.labels, true, why);
  if (!labels)
    userError(spec.inputLoc, "data." + splitName + ".labels '" + split.labels +
                                 "' cannot be used: " + why);
  if (labels->dims[0] != images->dims[0])
    userError(spec.inputLoc,
              "data." + splitName + " has " + std::to_string(images->dims[0]) +
                  " images but " + std::to_string(labels->dims[0]) + " labels");

  int64_t classes = graph.type(graph.output).elements();
  if (labels->largestByte >= classes)
    userError(spec.lossLoc, "the labels of data." + splitName + " go up to " +
                                std::to_string(labels->largestByte) +
                                ", but the last layer '" +
                                graph.layers.back().name + "' has only " +
                                std::to_string(classes) + " outputs");
}

// The layer's settings in a few words, for `info`.
static std::string layerDetail(const LayerSpec &layerSpec) {
  std::string detail;
  if (layerSpec.op == "dense") {
    detail = "units=" + std::to_string(layerSpec.units);
    if (!layerSpec.bias)
      detail += " bias=false";
    if (!layerSpec.activation.empty())
      detail += " activation=" + layerSpec.activation;
  }
  if (layerSpec.op == "conv2d" || layerSpec.op == "maxpool2d" ||
      layerSpec.op == "avgpool2d")
    detail = convLayerDetail(layerSpec);
  std::string settings = elementwiseFamilyDetail(layerSpec);
  if (!settings.empty())
    detail += (detail.empty() ? "" : " ") + settings;
  if (layerSpec.op == "rnn" || layerSpec.op == "lstm")
    detail =
        "hidden=" + std::to_string(layerSpec.hidden) +
        (layerSpec.op == "rnn" ? " activation=" + layerSpec.recurrence : "") +
        (layerSpec.returnSequence ? " return=sequence" : " return=last");
  if (layerSpec.op == "batchnorm" && !layerSpec.activation.empty())
    detail = "activation=" + layerSpec.activation;
  if (layerSpec.op == "embedding")
    detail = "vocab=" + std::to_string(layerSpec.vocab) +
             " dim=" + std::to_string(layerSpec.dim);
  return detail;
}

NodeId detail::GraphBuilder::addRecordedLayer(const LayerSpec &layerSpec,
                                              NodeId x) {
  // The layer's entry comes before those of the layers nested in it, as
  // PyTorch lists a module before its children.
  int index = static_cast<int>(graph.layers.size());
  Layer entry;
  entry.name = layerSpec.name;
  entry.op = layerSpec.op;
  entry.detail = layerDetail(layerSpec);
  entry.loc = layerSpec.loc;
  graph.layers.push_back(std::move(entry));

  size_t firstParam = graph.params.size();
  int enclosing = currentLayer;
  currentLayer = index;
  NodeId y = addLayer(layerSpec, x);
  currentLayer = enclosing;

  Layer &layer = graph.layers[index];
  layer.output = graph.type(y);
  for (size_t i = firstParam; i < graph.params.size(); ++i)
    layer.numParams += graph.params[i].type.elements();
  previousLayer = layerSpec.name;
  return y;
}

Graph detail::GraphBuilder::build() {
  graph.name = spec.name;
  graph.loss = spec.loss;

  checkSize(spec.inputLoc, "the input", spec.input, true);
  NodeId x = graph.addTyped(OpKind::Input, {}, batchedType(spec.input),
                            Role::Forward, "");
  graph.input = x;

  if (spec.isGraph)
    x = addGraphForm(x);
  else
    for (const LayerSpec &layerSpec : spec.layers)
      x = addRecordedLayer(layerSpec, x);

  if (graph.params.empty())
    userError(spec.layers.front().loc, "the model has nothing to train",
              "add a layer with parameters, such as {op: dense, units: 10}");
  graph.output = x;
  if (spec.data.targetsAreInputs) {
    if (spec.loss == LossKind::SoftmaxCrossEntropy)
      userError(spec.data.targetsLoc,
                "'targets: inputs' needs a loss that compares values, such "
                "as mse, not softmax_cross_entropy");
    if (graph.type(x).elements() != graph.type(graph.input).elements())
      userError(spec.data.targetsLoc,
                "'targets: inputs' makes each sample its own target, but "
                "the last layer '" +
                    previousLayer + "' gives " + graph.type(x).str() +
                    " for an input of " + graph.type(graph.input).str());
  }
  addLoss();
  checkData(spec.data.train, "train");
  checkData(spec.data.test, "test");
  return std::move(graph);
}

Graph buildForwardGraph(const ModelSpec &spec) {
  return detail::GraphBuilder(spec).build();
}

} // namespace gradc
