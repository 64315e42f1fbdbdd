//===- SequenceOps.h - Shape rules of the sequence ops ---------*- C++ -*-===//
//
// The shape rules of the ops that rnn, lstm and embedding layers are made
// of, kept beside each other; ir/Op.cpp's inferType hands these ops here.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_IR_SEQUENCEOPS_H
#define GRADC_IR_SEQUENCEOPS_H

#include "ir/Op.h"

namespace gradc {

// The result type of a sequence op. PrevHidden, LastStepGrad and
// EmbeddingGrad have no rule, since their inputs do not fix their shape;
// their type is given when they are created.
TensorType inferSequenceType(OpKind op, const std::vector<TensorType> &inputs);

} // namespace gradc

#endif // GRADC_IR_SEQUENCEOPS_H
