//===- GraphEdits.h - What the rewriting passes share -----------*- C++ -*-===//
//
// The optimization passes that fold nodes into others (FuseElementwise,
// FuseConvolution) ask the same questions of the graph before a fold, who
// reads a value and whether the step hands it out, and remove the folded
// nodes the same way after.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_PASSES_GRAPHEDITS_H
#define GRADC_PASSES_GRAPHEDITS_H

#include "ir/Graph.h"

#include <vector>

namespace gradc {

// For each node, how many inputs of other nodes name it (a node that
// reads a value twice counts twice).
std::vector<int> countReaders(const Graph &graph);

// For each node, whether the step needs its value stored whoever reads
// it: the input, labels, targets, output and loss, and every parameter,
// gradient and squared norm.
std::vector<bool> pinnedValues(const Graph &graph);

// Removes the nodes marked, which no kept node may read any more, and
// renumbers the rest, keeping their order, so that ids stay positions.
void removeNodes(Graph &graph, const std::vector<bool> &removed);

} // namespace gradc

#endif // GRADC_PASSES_GRAPHEDITS_H
