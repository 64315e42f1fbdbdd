// Inputs that are embedding ids. When a model's first layer is an
// embedding (gradc_model::input_is_ids), every input value is an integer id
// in [0, input_vocab), carried as a float. Anything else is refused where
// data enter the trainer, naming the file and the place of the first bad
// value: the generated lookup would otherwise turn it into a row of zeros
// without a word.
#ifndef GRADC_RUNTIME_INPUT_IDS_H
#define GRADC_RUNTIME_INPUT_IDS_H

#include "dataset.h"
#include "gradc/abi.h"

#include <span>
#include <string>

namespace gradc {

// Checks `values`, samples of model.input_size values read from `source`;
// `transformed` says whether the data section's scale or normalization
// changed them, which the hint then blames.
void checkInputIds(const gradc_model &model, std::span<const float> values,
                   const std::string &source, bool transformed);

// The same for a loaded split, whichever form its inputs are kept in.
void checkDatasetIds(const gradc_model &model, const Dataset &data,
                     const std::string &source,
                     const InputTransform &transform);

} // namespace gradc

#endif // GRADC_RUNTIME_INPUT_IDS_H
