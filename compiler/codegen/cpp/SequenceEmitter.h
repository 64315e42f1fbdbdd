//===- SequenceEmitter.h - C++ for the sequence ops ------------*- C++ -*-===//
//
// The statements that the C++ backend prints for the ops of rnn, lstm and
// embedding layers: calls into gradc/kernels_sequence.h. CppEmitter.cpp
// hands these ops here.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_CPP_SEQUENCEEMITTER_H
#define GRADC_CODEGEN_CPP_SEQUENCEEMITTER_H

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace gradc {

// The statement for `node`, whose inputs' pointers are named `inputs` and
// whose output's pointer is named `output`, in a function where `B` is the
// batch size.
std::string emitSequenceStatement(const Graph &graph, const Node &node,
                                  const std::vector<std::string> &inputs,
                                  const std::string &output);

// The vocabulary of the embedding that reads the model's input, or 0 when
// the input holds plain values.
int64_t inputVocabulary(const Graph &graph);

} // namespace gradc

#endif // GRADC_CODEGEN_CPP_SEQUENCEEMITTER_H
