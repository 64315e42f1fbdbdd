//===- ConvLayers.h - conv2d and pooling layers, checked -------*- C++ -*-===//
//
// What the graph builder needs to turn a conv2d, maxpool2d or avgpool2d
// layer into nodes: the window as node attrs, after the checks that need
// the input's shape, each reported at the YAML location of its cause.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_IR_CONVLAYERS_H
#define GRADC_IR_CONVLAYERS_H

#include "frontend/ModelSpec.h"
#include "ir/Op.h"

#include <string>

namespace gradc {

// The attrs of the node of a conv2d, maxpool2d or avgpool2d layer whose
// input is `input`. Refuses an input that is not [channels, height,
// width] and a window larger than the (padded) input; `inputDescription`
// says where the input comes from, for those messages.
Attrs convLayerAttrs(const LayerSpec &layer, const TensorType &input,
                     const std::string &inputDescription);

// The settings `info` shows for the layer: "filters=32 kernel=3 stride=1
// padding=same activation=relu", "size=2 stride=2".
std::string convLayerDetail(const LayerSpec &layer);

} // namespace gradc

#endif // GRADC_IR_CONVLAYERS_H
