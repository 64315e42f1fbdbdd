// `predict`: the model's outputs for the inputs of a .npy file, written to
// another. The inputs are fed as they are: the data section's scale and
// normalization are for the training files, not applied here.
#include "command_support.h"
#include "commands.h"
#include "errors.h"
#include "names.h"
#include "settings.h"
#include "tensor_io.h"

#include <algorithm>

namespace gradc {

int runPredict(const gradc_model &model, const Options &options) {
  const gradc_config &config = *model.config;
  const HostTensor inputs = readModelInputs(model, options.input, "--input");
  const int64_t count = inputs.shape[0];

  Network<float> network(model);
  startParameters(model, options, resolveSeed(config, options), network);

  HostTensor outputs;
  outputs.shape = {count};
  outputs.shape.insert(outputs.shape.end(), model.output_shape,
                       model.output_shape + model.output_rank);
  outputs.data.resize(static_cast<size_t>(count * model.output_size));

  // In batches, so the workspace stays the size training used.
  const int64_t batch_size = resolveBatch(config, options);
  for (int64_t start = 0; start < count; start += batch_size) {
    BatchView<float> view;
    view.count = std::min(batch_size, count - start);
    view.x = inputs.data.data() + start * model.input_size;
    network.forward(view, /*training=*/false, 0);
    std::copy_n(network.output.data(), view.count * model.output_size,
                outputs.data.data() + start * model.output_size);
  }

  try {
    writeNpy(options.output, outputs);
  } catch (const IoError &failure) {
    throw UserError(fmt::format("cannot write the outputs: {}", failure.what()),
                    "check that the folder of --output exists and is "
                    "writable");
  }
  note(options, "wrote {} outputs of shape {} to '{}'", count,
       formatShape(model.output_rank, model.output_shape), options.output);
  return 0;
}

} // namespace gradc
