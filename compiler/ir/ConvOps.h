//===- ConvOps.h - Windows of the convolutional ops ------------*- C++ -*-===//
//
// conv2d, the pools and their gradients slide a square window over samples
// laid out [C,H,W]. Their nodes carry the window as attrs (see Op.h); this
// header builds those attrs, states the shape rules that read them, and
// turns a node back into the geometry its kernel needs.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_IR_CONVOPS_H
#define GRADC_IR_CONVOPS_H

#include "ir/Graph.h"

#include <cstdint>
#include <vector>

namespace gradc {

// Zero rows and columns around each side of a sample.
struct Padding {
  int64_t top = 0;
  int64_t left = 0;
  int64_t bottom = 0;
  int64_t right = 0;
};

// A window sliding over one sample: the input [channels, height, width],
// the output [outChannels, outHeight, outWidth], a kernel x kernel window
// moved by stride, and the padding.
struct ConvGeometry {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  int64_t outChannels = 0;
  int64_t outHeight = 0;
  int64_t outWidth = 0;
  int64_t kernel = 0;
  int64_t stride = 1;
  Padding padding;
};

// The attrs of a conv2d node and of its gradients. Zero paddings are left
// out, so that `--emit graph` shows only the padding there is.
Attrs convAttrs(int64_t kernel, int64_t stride, const Padding &padding);

// The attrs of a maxpool2d or avgpool2d node and of its gradient.
Attrs poolAttrs(int64_t size, int64_t stride);

// `attrs` with the input's height and width added, for the gradients whose
// inputs do not show them (conv2d_input_grad, avgpool2d_grad).
Attrs withInputExtent(Attrs attrs, const TensorType &input);

// The positions a window of `kernel` moved by `stride` takes along an axis
// of `extent` with `before` and `after` zeros around it; 0 when the window
// does not fit. Overflow-free for sizes up to 2^62.
int64_t windowPositions(int64_t extent, int64_t before, int64_t after,
                        int64_t kernel, int64_t stride);

// The shape rules of the family (called by inferType).
TensorType inferConvType(OpKind op, const std::vector<TensorType> &inputs,
                         const Attrs &attrs);

// The geometry of a node of the family, from its attrs and the types of
// its inputs and output.
ConvGeometry convGeometry(const Graph &graph, const Node &node);

} // namespace gradc

#endif // GRADC_IR_CONVOPS_H
