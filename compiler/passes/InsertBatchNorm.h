//===- InsertBatchNorm.h - The batchnorm mitigation pass -------*- C++ -*-===//
//
// Rewrites a chain of layers so that a BatchNorm follows every dense and
// conv2d layer but the last, before its activation. Runs on the ModelSpec,
// before the graph is built, since it changes the forward model.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_PASSES_INSERTBATCHNORM_H
#define GRADC_PASSES_INSERTBATCHNORM_H

#include "frontend/ModelSpec.h"

namespace gradc {

// Inserts `<layer>.bn` (momentum 0.1, eps 1e-5) after each dense and
// conv2d layer but the last, moves the layer's activation after it, and
// drops the layer's bias, which the normalization would cancel. Returns
// whether the model changed.
bool insertBatchNorm(ModelSpec &spec);

} // namespace gradc

#endif // GRADC_PASSES_INSERTBATCHNORM_H
