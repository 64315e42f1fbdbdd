//===- ConvEmitter.cpp - C++ for the convolutional ops --------------------===//
//
// Each op is one kernel call. The window's geometry is printed as a
// gradc::WindowShape literal, so the kernels see compile-time constants
// once the generated code is inlined.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpp/ConvEmitter.h"

#include "ir/ConvOps.h"

#include <fmt/format.h>

namespace gradc {

static std::string windowShape(const ConvGeometry &g) {
  return fmt::format("gradc::WindowShape{{{}, {}, {}, {}, {}, {}, {}, {}, "
                     "{}, {}}}",
                     g.channels, g.height, g.width, g.outChannels, g.outHeight,
                     g.outWidth, g.kernel, g.stride, g.padding.top,
                     g.padding.left);
}

std::string emitConvStatement(const Graph &graph, const Node &node,
                              const std::vector<std::string> &inputs,
                              const std::string &output) {
  if (node.op == OpKind::ChannelBiasAdd) {
    const TensorType &x = graph.type(node.inputs[0]);
    return fmt::format("  gradc::channelBiasAdd<T>(B, {}, {}, {}, {}, {});\n",
                       x.dims[0], x.elements() / x.dims[0], inputs[0],
                       inputs[1], output);
  }

  const char *kernel = nullptr;
  switch (node.op) {
  case OpKind::Conv2d:
    kernel = "conv2d"; // x, w -> y
    break;
  case OpKind::Conv2dInputGrad:
    kernel = "conv2dInputGrad"; // dy, w -> dx
    break;
  case OpKind::Conv2dWeightGrad:
    kernel = "conv2dWeightGrad"; // dy, x -> dw
    break;
  case OpKind::MaxPool2d:
    kernel = "maxPool2d"; // x -> y
    break;
  case OpKind::MaxPool2dGrad:
    kernel = "maxPool2dGrad"; // dy, x -> dx
    break;
  case OpKind::AvgPool2d:
    kernel = "avgPool2d"; // x -> y
    break;
  case OpKind::AvgPool2dGrad:
    kernel = "avgPool2dGrad"; // dy -> dx
    break;
  default:
    throw InternalError(std::string("'") + opName(node.op) +
                        "' is not of the convolutional family");
  }

  std::string arguments;
  for (const std::string &input : inputs)
    arguments += input + ", ";
  return fmt::format("  gradc::{}<T>(B, {}, {}{});\n", kernel,
                     windowShape(convGeometry(graph, node)), arguments, output);
}

} // namespace gradc
