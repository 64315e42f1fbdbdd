//===- Autodiff.h - Reverse-mode differentiation of a graph ----*- C++ -*-===//
//
// Appends the backward graph to a forward graph: for every parameter, the
// nodes that compute the gradient of the loss with respect to it, and the
// squared norm of that gradient, which the trainer logs. The backward
// graph is made of ordinary nodes, so every later pass and both code
// generators handle it like the forward graph.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_AUTODIFF_AUTODIFF_H
#define GRADC_AUTODIFF_AUTODIFF_H

#include "ir/Graph.h"

namespace gradc {

// Differentiates graph.lossNode with respect to every parameter and sets
// each Param's `grad` and `sqNorm`.
void differentiate(Graph &graph);

} // namespace gradc

#endif // GRADC_AUTODIFF_AUTODIFF_H
