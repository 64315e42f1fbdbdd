//===- FuseElementwise.h - Elementwise chains in one loop ------*- C++ -*-===//
//
// An optimization pass on the differentiated graph: folds each elementwise
// node that only one elementwise consumer reads into that consumer, as a
// `fused` node whose steps run in one loop. Runs at -O1 and above, before
// the memory plan, which then has fewer buffers to place.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_PASSES_FUSEELEMENTWISE_H
#define GRADC_PASSES_FUSEELEMENTWISE_H

#include "ir/Graph.h"

namespace gradc {

// Returns how many nodes were folded into others.
int fuseElementwise(Graph &graph);

} // namespace gradc

#endif // GRADC_PASSES_FUSEELEMENTWISE_H
