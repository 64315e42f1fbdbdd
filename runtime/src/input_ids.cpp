// See input_ids.h.
#include "input_ids.h"

#include "errors.h"

#include <cmath>
#include <fmt/format.h>

namespace gradc {
namespace {

bool isId(float value, int64_t vocab) {
  return value >= 0 && value < static_cast<float>(vocab) &&
         std::floor(value) == value;
}

[[noreturn]] void refuse(const gradc_model &model, float value, int64_t index,
                         const std::string &source, bool transformed) {
  const int64_t sample = index / model.input_size;
  const int64_t position = index % model.input_size;
  std::string hint =
      fmt::format("ids are whole numbers from 0 to {}", model.input_vocab - 1);
  if (transformed)
    hint += "; the data section's scale and normalize change them too, so "
            "leave those out";
  throw UserError(fmt::format("the model's first layer is an embedding of {} "
                              "ids, but '{}' holds {} at sample {}, position "
                              "{}",
                              model.input_vocab, source, value, sample,
                              position),
                  hint);
}

bool changesValues(const InputTransform &transform) {
  return transform.scale != 1.0 ||
         (transform.normalize &&
          (transform.mean != 0.0 || transform.std != 1.0));
}

} // namespace

void checkInputIds(const gradc_model &model, std::span<const float> values,
                   const std::string &source, bool transformed) {
  if (!model.input_is_ids)
    return;
  for (size_t i = 0; i < values.size(); ++i)
    if (!isId(values[i], model.input_vocab))
      refuse(model, values[i], static_cast<int64_t>(i), source, transformed);
}

void checkDatasetIds(const gradc_model &model, const Dataset &data,
                     const std::string &source,
                     const InputTransform &transform) {
  if (!model.input_is_ids)
    return;
  const bool transformed = changesValues(transform);
  if (data.raw_inputs.empty()) {
    checkInputIds(model, data.inputs, source, transformed);
    return;
  }

  // IDX bytes become values through the split's table.
  for (size_t i = 0; i < data.raw_inputs.size(); ++i) {
    const float value = data.byte_values[data.raw_inputs[i]];
    if (!isId(value, model.input_vocab))
      refuse(model, value, static_cast<int64_t>(i), source, transformed);
  }
}

} // namespace gradc
