// See command_support.h.
#include "command_support.h"

#include "checkpoint.h"
#include "errors.h"
#include "init.h"
#include "input_ids.h"
#include "names.h"
#include "tensor_io.h"

#include <fmt/format.h>

namespace gradc {

Dataset loadSplit(const gradc_model &model, const DataFiles &files,
                  const InputTransform &transform, const std::string &split,
                  const Options &options) {
  Dataset data = loadDataset(model, files, transform, split);
  if (data.count == 0)
    throw UserError(
        fmt::format("'{}' holds no {} samples", files.inputs, split),
        fmt::format("the path came from {}", files.origin));
  checkDatasetIds(model, data, files.inputs, transform);
  std::string conversion = fmt::format("x * {:g}", transform.scale);
  if (transform.normalize)
    conversion +=
        fmt::format(", then (x - {:g}) / {:g}", transform.mean, transform.std);
  note(options, "{} data: {} samples from '{}' and '{}'; inputs become {}",
       split, data.count, files.inputs, files.targets, conversion);
  return data;
}

void startParameters(const gradc_model &model, const Options &options,
                     uint64_t seed, Network<float> &network) {
  if (options.load.empty()) {
    initializeParams(model, seed, network.params.data());
    note(options, "parameters initialized from the seed {}", seed);
    return;
  }
  loadParameters(options.load, model, network.params.data());
  note(options, "parameters loaded from '{}'", options.load);
}

// Reads [N, ...] inputs with input_size values per sample.
HostTensor readModelInputs(const gradc_model &model, const std::string &path,
                           const std::string &option) {
  HostTensor inputs;
  try {
    inputs = readNpy(path);
  } catch (const IoError &failure) {
    throw UserError(fmt::format("cannot read the inputs: {}", failure.what()),
                    fmt::format("give a .npy file with {}", option));
  }
  const std::span<const int64_t> shape(inputs.shape);
  if (shape.empty() || elementCount(shape.subspan(1)) != model.input_size)
    throw UserError(
        fmt::format("'{}' has the shape {}, but the model takes samples of {}",
                    path, formatShape(shape),
                    formatShape(model.input_rank, model.input_shape)),
        fmt::format("the first axis counts the samples: give [N, {}]",
                    fmt::join(model.input_shape,
                              model.input_shape + model.input_rank, ", ")));
  checkInputIds(model, inputs.data, path, false);
  return inputs;
}

} // namespace gradc
