//===- InsertResidual.h - The residual mitigation pass ---------*- C++ -*-===//
//
// Rewrites a chain of layers so that each run of K consecutive
// shape-preserving layers sits inside an identity skip connection. Runs on
// the ModelSpec, after the batchnorm pass and before the graph is built.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_PASSES_INSERTRESIDUAL_H
#define GRADC_PASSES_INSERTRESIDUAL_H

#include "frontend/ModelSpec.h"

namespace gradc {

// Wraps runs of spec.passes.residual shape-preserving units in residual
// blocks named `<first layer>.res`; a unit is a dense or conv2d layer with
// the normalization, activation and dropout layers that follow it. The
// wrapped layers keep their names, so their parameters do too. Returns
// whether the model changed.
bool insertResidual(ModelSpec &spec);

} // namespace gradc

#endif // GRADC_PASSES_INSERTRESIDUAL_H
