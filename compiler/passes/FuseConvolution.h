//===- FuseConvolution.h - Folds into the conv kernels ----------*- C++ -*-===//
//
// An optimization pass on the differentiated graph: folds a convolution's
// bias and relu into the convolution, as a `conv2d_bias` node, and the
// gradient of a relu that feeds a max pool into the pool's gradient, as
// a `maxpool2d_grad` with attr positive. Each fold saves a pass over a
// large tensor, and the kernels give the bits of the ops they replace.
// Runs at -O1 and above, before FuseElementwise.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_PASSES_FUSECONVOLUTION_H
#define GRADC_PASSES_FUSECONVOLUTION_H

#include "ir/Graph.h"

namespace gradc {

// Returns how many nodes were folded into others.
int fuseConvolution(Graph &graph);

} // namespace gradc

#endif // GRADC_PASSES_FUSECONVOLUTION_H
