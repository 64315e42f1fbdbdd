//===- SizeLimits.h - Refuse models too large to run ------------*- C++ -*-===//
//
// The contract refuses a model with a tensor of more than 2^31 elements or
// more than 16 GiB of parameters and activations at its batch, before
// anything is allocated. The graph builder checks each layer's own
// tensors as it goes; this check runs on the planned graph, where every
// buffer is known: backward temporaries, standalone activations and the
// optimizer's state included.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_PASSES_SIZELIMITS_H
#define GRADC_PASSES_SIZELIMITS_H

#include "frontend/ModelSpec.h"
#include "ir/Graph.h"
#include "passes/MemoryPlan.h"

namespace gradc {

void checkSizeLimits(const ModelSpec &spec, const Graph &graph,
                     const MemoryPlan &plan);

} // namespace gradc

#endif // GRADC_PASSES_SIZELIMITS_H
