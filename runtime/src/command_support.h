// Steps that several subcommands share: reading a split with a note under
// -v, and finding the parameters to start from.
#ifndef GRADC_RUNTIME_COMMAND_SUPPORT_H
#define GRADC_RUNTIME_COMMAND_SUPPORT_H

#include "dataset.h"
#include "network.h"
#include "options.h"
#include "tensor_io.h"

#include <fmt/core.h>

namespace gradc {

// Prints one line to stderr when -v was given.
template <typename... Args>
void note(const Options &options, fmt::format_string<Args...> format,
          Args &&...args) {
  if (options.verbose)
    fmt::print(stderr, "{}\n",
               fmt::format(format, std::forward<Args>(args)...));
}

Dataset loadSplit(const gradc_model &model, const DataFiles &files,
                  const InputTransform &transform, const std::string &split,
                  const Options &options);

// The parameters from --load, or initialized from the seed without it.
void startParameters(const gradc_model &model, const Options &options,
                     uint64_t seed, Network<float> &network);

// Reads a .npy of model inputs, [N, ...] with input_size values per
// sample; `option` names where the path came from.
HostTensor readModelInputs(const gradc_model &model, const std::string &path,
                           const std::string &option);

} // namespace gradc

#endif // GRADC_RUNTIME_COMMAND_SUPPORT_H
