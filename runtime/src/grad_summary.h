// The end-of-training summary of the gradient norms: for each trainable
// parameter from input to output its norm at the first and the last logged
// step and the geometric mean over the logged steps, the ratio of the first
// layer's weight gradient to the last layer's, and warnings in plain words
// when gradients vanish or explode.
#ifndef GRADC_RUNTIME_GRAD_SUMMARY_H
#define GRADC_RUNTIME_GRAD_SUMMARY_H

#include "grad_log.h"

#include <cstdio>

namespace gradc {

// The table goes to `out` when show_table is set; warnings always go to
// `warnings`.
void printGradSummary(const gradc_model &model, const GradNormLog &log,
                      bool show_table, std::FILE *out, std::FILE *warnings);

} // namespace gradc

#endif // GRADC_RUNTIME_GRAD_SUMMARY_H
