//===- SequenceGradRules.h - Chain rules of the sequence ops ---*- C++ -*-===//
//
// The rules of the forward ops that rnn, lstm and embedding layers are made
// of; autodiff/GradRules.cpp hands these ops here.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_AUTODIFF_SEQUENCEGRADRULES_H
#define GRADC_AUTODIFF_SEQUENCEGRADRULES_H

#include "autodiff/GradRules.h"

namespace gradc {

void applySequenceGradRule(GradContext &context);

} // namespace gradc

#endif // GRADC_AUTODIFF_SEQUENCEGRADRULES_H
