//===- ConvEmitter.h - C++ for the convolutional ops -----------*- C++ -*-===//
//
// The statements that the C++ backend prints for the ops of conv2d,
// maxpool2d and avgpool2d layers: calls into gradc/kernels_conv.h.
// CppEmitter.cpp hands these ops here.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_CPP_CONVEMITTER_H
#define GRADC_CODEGEN_CPP_CONVEMITTER_H

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace gradc {

// The statement for `node`, whose inputs' pointers are named `inputs` and
// whose output's pointer is named `output`, in a function where `B` is the
// batch size.
std::string emitConvStatement(const Graph &graph, const Node &node,
                              const std::vector<std::string> &inputs,
                              const std::string &output);

} // namespace gradc

#endif // GRADC_CODEGEN_CPP_CONVEMITTER_H
