//===- ConvLayers.cpp - conv2d and pooling layers, checked ----------------===//
//
// A window that does not fit its input is reported here, where the input's
// shape and the layer's YAML locations are both known; past this point the
// shape rules of ConvOps.cpp treat such a window as a compiler bug.
//
//===----------------------------------------------------------------------===//
#include "ir/ConvLayers.h"

#include "frontend/Diagnostics.h"
#include "ir/ConvOps.h"

#include <algorithm>
#include <sstream>
#include <utility>

namespace gradc {

namespace {

// Keras's `same` along one axis: ceil(extent / stride) positions, the
// padding they need split in two, any odd row or column going after.
std::pair<int64_t, int64_t> samePadding(int64_t extent, int64_t kernel,
                                        int64_t stride) {
  int64_t positions = (extent + stride - 1) / stride;
  int64_t total =
      std::max<int64_t>((positions - 1) * stride + kernel - extent, 0);
  return {total / 2, total - total / 2};
}

Padding layerPadding(const LayerSpec &layer, int64_t height, int64_t width) {
  switch (layer.padding) {
  case PaddingKind::Valid:
    break;
  case PaddingKind::Same: {
    auto [top, bottom] = samePadding(height, layer.kernel, layer.stride);
    auto [left, right] = samePadding(width, layer.kernel, layer.stride);
    return {top, left, bottom, right};
  }
  case PaddingKind::Explicit: {
    int64_t size = layer.paddingSize;
    return {size, size, size, size};
  }
  }
  return {};
}

std::string extentText(int64_t height, int64_t width) {
  return std::to_string(height) + "x" + std::to_string(width);
}

} // namespace

Attrs convLayerAttrs(const LayerSpec &layer, const TensorType &input,
                     const std::string &inputDescription) {
  const bool conv = layer.op == "conv2d";
  if (!input.batched || input.dims.size() != 3)
    userError(layer.loc,
              layer.op +
                  " needs an input of shape [channels, height, "
                  "width], but its input " +
                  inputDescription + " is " + input.str(),
              "an image input is written [channels, height, width], such "
              "as input: [1, 28, 28]; flatten comes after the "
              "convolutional and pooling layers");

  const int64_t height = input.dims[1], width = input.dims[2];
  const Padding padding = conv ? layerPadding(layer, height, width) : Padding{};
  const int64_t paddedHeight = height + padding.top + padding.bottom;
  const int64_t paddedWidth = width + padding.left + padding.right;
  if (layer.kernel > paddedHeight || layer.kernel > paddedWidth) {
    std::string extent = extentText(height, width);
    if (paddedHeight != height || paddedWidth != width)
      extent += " (" + extentText(paddedHeight, paddedWidth) + " with padding)";
    userError(layer.kernelLoc,
              (conv ? "kernel " : "pool size ") + std::to_string(layer.kernel) +
                  " is larger than the input of layer '" + layer.name +
                  "', which is " + extent,
              conv ? "the window must fit inside the input: use a smaller "
                     "kernel or more padding, or shrink the input less "
                     "before this layer"
                   : "the window must fit inside the input: use a smaller "
                     "size, or shrink the input less before this layer");
  }

  if (conv)
    return convAttrs(layer.kernel, layer.stride, padding);
  return poolAttrs(layer.kernel, layer.stride);
}

std::string convLayerDetail(const LayerSpec &layer) {
  std::ostringstream text;
  if (layer.op != "conv2d") {
    text << "size=" << layer.kernel << " stride=" << layer.stride;
    return text.str();
  }

  text << "filters=" << layer.filters << " kernel=" << layer.kernel
       << " stride=" << layer.stride << " padding=";
  if (layer.padding == PaddingKind::Valid)
    text << "valid";
  else if (layer.padding == PaddingKind::Same)
    text << "same";
  else
    text << layer.paddingSize;
  if (!layer.bias)
    text << " bias=false";
  if (!layer.activation.empty())
    text << " activation=" << layer.activation;
  if (layer.activation == "leaky_relu" || layer.activation == "elu")
    text << " alpha=" << layer.alpha;
  return text.str();
}

} // namespace gradc
