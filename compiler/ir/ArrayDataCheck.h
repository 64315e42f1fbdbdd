//===- ArrayDataCheck.h - .npy and CSV data against the model ---*- C++ -*-===//
//
// The graph builder's data check for the splits given as {x, y} (.npy) or
// {csv, label}: the samples fit the input, the targets fit the loss and
// the output, and the label column exists. Each mistake is reported at
// the YAML location of its cause, from file headers and first lines only.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_IR_ARRAYDATACHECK_H
#define GRADC_IR_ARRAYDATACHECK_H

#include "frontend/ModelSpec.h"

#include <cstdint>
#include <string>

namespace gradc {

// What the check needs to know of the built graph.
struct ModelEnds {
  int64_t inputElements = 0;  // values in one sample
  int64_t outputElements = 0; // outputs for one sample
  std::string lastLayer;
};

// Checks `split`, named data.<splitName>, when it is an {x, y} or
// {csv, label} split; does nothing for the other forms.
void checkArrayData(const ModelSpec &spec, const SplitSpec &split,
                    const std::string &splitName, const ModelEnds &ends);

} // namespace gradc

#endif // GRADC_IR_ARRAYDATACHECK_H
