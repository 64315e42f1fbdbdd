//===- ConvOps.cpp - Windows of the convolutional ops ---------------------===//
//
// The shape rules trust nothing, as those of Op.cpp: a mismatch is an
// internal error naming the op, its input types and its attrs, since the
// graph builder has already reported every mistake a user can make.
//
//===----------------------------------------------------------------------===//
#include "ir/ConvOps.h"

#include "frontend/Diagnostics.h"

#include <fmt/format.h>

#include <utility>

namespace gradc {

namespace {

// The window an op's attrs describe; zeros where an attr is missing, which
// the shape rules then refuse.
struct Window {
  int64_t kernel = 0;
  int64_t stride = 0;
  Padding padding;
};

int64_t intAttr(const Attrs &attrs, const char *name) {
  auto found = attrs.find(name);
  return found == attrs.end() ? 0 : static_cast<int64_t>(found->second);
}

Window windowOf(const Attrs &attrs) {
  Window window;
  window.kernel =
      attrs.count("kernel") ? intAttr(attrs, "kernel") : intAttr(attrs, "size");
  window.stride = intAttr(attrs, "stride");
  window.padding = {intAttr(attrs, "pad_top"), intAttr(attrs, "pad_left"),
                    intAttr(attrs, "pad_bottom"), intAttr(attrs, "pad_right")};
  return window;
}

// The output's [height, width] for an input of height x width.
std::pair<int64_t, int64_t> outputExtent(const Window &window, int64_t height,
                                         int64_t width) {
  const Padding &pad = window.padding;
  return {windowPositions(height, pad.top, pad.bottom, window.kernel,
                          window.stride),
          windowPositions(width, pad.left, pad.right, window.kernel,
                          window.stride)};
}

bool isImage(const TensorType &type) {
  return type.batched && type.dims.size() == 3;
}

// Whether `weight` is [F, channels, k, k] for the window's k.
bool isFilterBank(const TensorType &weight, int64_t channels,
                  const Window &window) {
  return !weight.batched && weight.dims.size() == 4 &&
         weight.dims[1] == channels && weight.dims[2] == window.kernel &&
         weight.dims[3] == window.kernel;
}

// Whether the window over `input` gives `output`'s height and width.
bool slidesTo(const Window &window, const TensorType &input,
              const TensorType &output) {
  auto [height, width] = outputExtent(window, input.dims[1], input.dims[2]);
  return height > 0 && width > 0 && height == output.dims[1] &&
         width == output.dims[2];
}

[[noreturn]] void violated(OpKind op, const std::vector<TensorType> &inputs,
                           const Attrs &attrs) {
  expectShapeRule(false, op, inputs, attrs);
  throw InternalError("unreachable: a failed shape rule returned");
}

} // namespace

Attrs convAttrs(int64_t kernel, int64_t stride, const Padding &padding) {
  Attrs attrs = {{"kernel", static_cast<double>(kernel)},
                 {"stride", static_cast<double>(stride)}};
  const std::pair<const char *, int64_t> sides[] = {
      {"pad_top", padding.top},
      {"pad_left", padding.left},
      {"pad_bottom", padding.bottom},
      {"pad_right", padding.right}};
  for (const auto &[name, size] : sides)
    if (size != 0)
      attrs[name] = static_cast<double>(size);
  return attrs;
}

Attrs poolAttrs(int64_t size, int64_t stride) {
  return {{"size", static_cast<double>(size)},
          {"stride", static_cast<double>(stride)}};
}

Attrs withInputExtent(Attrs attrs, const TensorType &input) {
  internalCheck(isImage(input), "a window's input is not [B,C,H,W]");
  attrs["height"] = static_cast<double>(input.dims[1]);
  attrs["width"] = static_cast<double>(input.dims[2]);
  return attrs;
}

int64_t windowPositions(int64_t extent, int64_t before, int64_t after,
                        int64_t kernel, int64_t stride) {
  int64_t padded = extent + before + after;
  if (kernel <= 0 || stride <= 0 || padded < kernel)
    return 0;
  return (padded - kernel) / stride + 1;
}

TensorType inferConvType(OpKind op, const std::vector<TensorType> &in,
                         const Attrs &attrs) {
  auto expect = [&](bool condition) {
    if (!condition)
      violated(op, in, attrs);
  };

  if (op == OpKind::ChannelBiasAdd) {
    // x[B,C,..] + b[C]
    expect(in[0].batched && !in[0].dims.empty() &&
           in[1] == fixedType({in[0].dims[0]}));
    return in[0];
  }

  const Window window = windowOf(attrs);
  const Padding &pad = window.padding;
  expect(window.kernel > 0 && window.stride > 0 && pad.top >= 0 &&
         pad.left >= 0 && pad.bottom >= 0 && pad.right >= 0);
  const int64_t height = intAttr(attrs, "height");
  const int64_t width = intAttr(attrs, "width");

  switch (op) {
  case OpKind::Conv2d:
  case OpKind::Conv2dBias: {
    // x[B,C,H,W], w[F,C,k,k] (, b[F]) -> [B,F,OH,OW]
    const TensorType &x = in[0], &weight = in[1];
    expect(isImage(x) && isFilterBank(weight, x.dims[0], window));
    expect(op == OpKind::Conv2d || in[2] == fixedType({weight.dims[0]}));
    auto [outHeight, outWidth] = outputExtent(window, x.dims[1], x.dims[2]);
    expect(outHeight > 0 && outWidth > 0);
    return batchedType({weight.dims[0], outHeight, outWidth});
  }

  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d: {
    // x[B,C,H,W] -> [B,C,OH,OW]
    const TensorType &x = in[0];
    expect(isImage(x));
    auto [outHeight, outWidth] = outputExtent(window, x.dims[1], x.dims[2]);
    expect(outHeight > 0 && outWidth > 0);
    return batchedType({x.dims[0], outHeight, outWidth});
  }

  case OpKind::Conv2dInputGrad: {
    // dy[B,F,OH,OW], w[F,C,k,k] -> dx[B,C,height,width]
    const TensorType &dy = in[0], &weight = in[1];
    expect(isImage(dy) && weight.dims.size() == 4 && height > 0 && width > 0);
    TensorType dx = batchedType({weight.dims[1], height, width});
    expect(isFilterBank(weight, dx.dims[0], window) &&
           weight.dims[0] == dy.dims[0] && slidesTo(window, dx, dy));
    return dx;
  }

  case OpKind::Conv2dWeightGrad: {
    // dy[B,F,OH,OW], x[B,C,H,W] -> dw[F,C,k,k]
    const TensorType &dy = in[0], &x = in[1];
    expect(isImage(dy) && isImage(x) && slidesTo(window, x, dy));
    return fixedType({dy.dims[0], x.dims[0], window.kernel, window.kernel});
  }

  case OpKind::MaxPool2dGrad: {
    // dy[B,C,OH,OW], x[B,C,H,W] -> dx, x's shape
    const TensorType &dy = in[0], &x = in[1];
    expect(isImage(dy) && isImage(x) && dy.dims[0] == x.dims[0] &&
           slidesTo(window, x, dy));
    return x;
  }

  case OpKind::AvgPool2dGrad: {
    // dy[B,C,OH,OW] -> dx[B,C,height,width]
    const TensorType &dy = in[0];
    expect(isImage(dy) && height > 0 && width > 0);
    TensorType dx = batchedType({dy.dims[0], height, width});
    expect(slidesTo(window, dx, dy));
    return dx;
  }

  default:
    break;
  }
  throw InternalError(std::string("op '") + opName(op) +
                      "' is not of the convolutional family");
}

ConvGeometry convGeometry(const Graph &graph, const Node &node) {
  // Which tensors are the window's input and output depends on the
  // direction: a gradient maps the output's shape back to the input's.
  const TensorType *input = nullptr, *output = nullptr;
  switch (node.op) {
  case OpKind::Conv2d:
  case OpKind::Conv2dBias:
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d:
    input = &graph.type(node.inputs[0]);
    output = &node.type;
    break;
  case OpKind::Conv2dWeightGrad:
  case OpKind::MaxPool2dGrad:
    input = &graph.type(node.inputs[1]);
    output = &graph.type(node.inputs[0]);
    break;
  case OpKind::Conv2dInputGrad:
  case OpKind::AvgPool2dGrad:
    input = &node.type;
    output = &graph.type(node.inputs[0]);
    break;
  default:
    throw InternalError(std::string("'") + opName(node.op) + "' has no window");
  }
  internalCheck(isImage(*input) && isImage(*output),
                std::string("'") + opName(node.op) +
                    "' slides over a tensor that is not [B,C,H,W]");

  const Window window = windowOf(node.attrs);
  ConvGeometry geometry;
  geometry.channels = input->dims[0];
  geometry.height = input->dims[1];
  geometry.width = input->dims[2];
  geometry.outChannels = output->dims[0];
  geometry.outHeight = output->dims[1];
  geometry.outWidth = output->dims[2];
  geometry.kernel = window.kernel;
  geometry.stride = window.stride;
  geometry.padding = window.padding;
  return geometry;
}

} // namespace gradc
