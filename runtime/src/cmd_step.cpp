// `step`: exactly one forward, backward and optimizer step on one batch,
// with everything it computed written to one file, so that a test can
// compare gradc's arithmetic with PyTorch's tensor by tensor. The
// gradients are the backward pass's (PyTorch's .grad after backward()),
// taken before clipping, weight decay and momentum; the optimizer starts
// fresh, as a new torch.optim optimizer does, at the base learning rate (a
// schedule's rate for the first epoch).
#include "checkpoint.h"
#include "clip.h"
#include "command_support.h"
#include "commands.h"
#include "errors.h"
#include "names.h"
#include "rng.h"
#include "settings.h"
#include "tensor_io.h"

namespace gradc {
namespace {

struct StepTargets {
  std::vector<int32_t> labels;
  std::vector<float> targets;
};

StepTargets readStepTargets(const gradc_model &model, const Options &options,
                            int64_t count) {
  StepTargets result;
  std::vector<int64_t> shape;
  try {
    if (model.loss == GRADC_LOSS_SOFTMAX_CROSS_ENTROPY) {
      result.labels = readNpyLabels(options.y, &shape);
    } else {
      HostTensor tensor = readNpy(options.y);
      shape = tensor.shape;
      result.targets = std::move(tensor.data);
    }
  } catch (const IoError &failure) {
    throw UserError(fmt::format("cannot read the targets: {}", failure.what()),
                    model.loss == GRADC_LOSS_SOFTMAX_CROSS_ENTROPY
                        ? "give class ids as an int32 or int64 .npy with --y"
                        : "give float targets as a .npy with --y");
  }

  if (model.loss == GRADC_LOSS_SOFTMAX_CROSS_ENTROPY) {
    if (static_cast<int64_t>(result.labels.size()) != count)
      throw UserError(fmt::format("'{}' has the shape {}, but --x holds {} "
                                  "samples",
                                  options.y, formatShape(shape), count),
                      fmt::format("give one class id per sample: [{}]", count));
    for (size_t i = 0; i < result.labels.size(); ++i)
      if (result.labels[i] < 0 || result.labels[i] >= model.output_size)
        throw UserError(fmt::format("'{}' holds the class {} at item {}, but "
                                    "the model has {} outputs",
                                    options.y, result.labels[i], i,
                                    model.output_size),
                        "class ids count from 0");
  } else if (static_cast<int64_t>(result.targets.size()) !=
             count * model.output_size) {
    throw UserError(fmt::format("'{}' has the shape {}, but the model has {} "
                                "outputs for each of the {} samples",
                                options.y, formatShape(shape),
                                model.output_size, count),
                    fmt::format("give targets of shape [{}, {}]", count,
                                model.output_size));
  }
  return result;
}

} // namespace

int runStep(const gradc_model &model, const Options &options) {
  const gradc_config &config = *model.config;
  const HostTensor inputs = readModelInputs(model, options.x, "--x");
  const int64_t count = inputs.shape[0];
  // The loss is a mean over the samples; over none it is 0/0, and the dump
  // would hold NaN gradients.
  if (count == 0)
    throw UserError(fmt::format("'{}' holds no samples", options.x),
                    "a step needs at least one: give --x of shape [N, ...] "
                    "with N of 1 or more");
  const StepTargets targets = readStepTargets(model, options, count);

  const uint64_t seed = resolveSeed(config, options);
  Network<float> network(model);
  startParameters(model, options, seed, network);

  BatchView<float> view;
  view.count = count;
  view.x = inputs.data.data();
  view.labels = targets.labels.empty() ? nullptr : targets.labels.data();
  view.targets = targets.targets.empty() ? nullptr : targets.targets.data();
  const float loss =
      network.trainStep(view, deriveSeed(seed, RngStream::Dropout, 1));

  // grad.<param> is the gradient before clipping; the update is after.
  const std::vector<float> grads(network.grads.begin(), network.grads.end());
  clipGradients(model, resolveClip(config), network.grads.data(),
                network.grad_sqnorms.data());
  const std::unique_ptr<Optimizer> optimizer =
      makeOptimizer(model, resolveOptimizer(config, options));
  optimizer->step(network.params.data(), network.grads.data());

  SafeTensors dump;
  std::vector<std::string> order = {"loss"};
  dump.tensors["loss"] = HostTensor{{1}, {loss}};
  for (int index = 0; index < model.num_params; ++index) {
    const gradc_param_info &param = model.params[index];
    if (param.is_buffer)
      continue;
    const std::string name = fmt::format("grad.{}", param.name);
    dump.tensors[name] = paramTensor(param, grads.data());
    order.push_back(name);
  }
  for (int index = 0; index < model.num_params; ++index) {
    const gradc_param_info &param = model.params[index];
    dump.tensors[param.name] = paramTensor(param, network.params.data());
    order.push_back(param.name);
  }

  try {
    writeSafeTensors(options.dump, dump, order);
  } catch (const IoError &failure) {
    throw UserError(fmt::format("cannot write the dump: {}", failure.what()),
                    "check that the folder of --dump exists and is writable");
  }
  fmt::print("loss {:.6f}\n", loss);
  return 0;
}

} // namespace gradc
