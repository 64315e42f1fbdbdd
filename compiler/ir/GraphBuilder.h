//===- GraphBuilder.h - ModelSpec to forward graph -------------*- C++ -*-===//
//
// Turns the validated model file into the forward and loss graph, inferring
// every shape on the way. This is where the errors that need more than one
// field are found: layers that do not fit together, a loss that does not
// fit the output, data that does not fit the input, and models too large
// to allocate. Each is reported at the YAML location of its cause.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_IR_GRAPHBUILDER_H
#define GRADC_IR_GRAPHBUILDER_H

#include "frontend/ModelSpec.h"
#include "ir/Graph.h"

namespace gradc {

// Limits beyond which a model is refused before anything is allocated.
constexpr int64_t MaxTensorElements = int64_t(1) << 31;
constexpr int64_t MaxModelBytes = int64_t(16) << 30;

Graph buildForwardGraph(const ModelSpec &spec);

} // namespace gradc

#endif // GRADC_IR_GRAPHBUILDER_H
