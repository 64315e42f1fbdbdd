// The gradient-norm log. At step 1 and every `every` steps after it (steps
// 1, N, 2N, ...) it takes each trainable parameter's gradient norm (which
// the generated backward pass computed as a squared norm) and its weight
// norm, flags them against the thresholds, appends them to the CSV file
// when there is one, and keeps what the end-of-training summary needs.
// Step 1 is always logged because the first steps show best whether the
// gradient reaches the early layers at all.
#ifndef GRADC_RUNTIME_GRAD_LOG_H
#define GRADC_RUNTIME_GRAD_LOG_H

#include "gradc/abi.h"
#include "text_file.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gradc {

struct GradLogSettings {
  int64_t every = 50;
  std::string path; // empty: track for the summary, write no file
  bool append = false;
  double vanishing_below = 1e-6;
  double exploding_above = 1e3;
};

// Clipped marks only the `__global__` row of a step where clipping acted.
enum class GradFlag { Ok, Vanishing, Exploding, Nonfinite, Clipped };

const char *flagName(GradFlag flag);
GradFlag classifyNorm(double norm, const GradLogSettings &settings);

// What the summary needs of one parameter's (or the global) norms.
struct NormHistory {
  std::string name;
  int param_index = -1; // -1 for the global norm
  int64_t first_step = 0;
  double first_norm = 0;
  int64_t last_step = 0;
  double last_norm = 0;
  int64_t logged = 0;
  int64_t vanishing = 0; // flagged vanishing, but not zero
  int64_t zero = 0;      // flagged vanishing, and exactly zero
  int64_t exploding = 0;
  int64_t nonfinite = 0;

  double geometricMean() const;
  void add(int64_t step, double norm, GradFlag flag);

private:
  double log_sum_ = 0;
  int64_t positive_ = 0;
};

class GradNormLog {
public:
  GradNormLog(const gradc_model &model, GradLogSettings settings);

  bool isLoggedStep(int64_t step) const;

  // Logs the norms of one step. The trainer also calls it at a step with a
  // non-finite gradient, so that the log shows where it happened.
  // `clipped`: gradient clipping acted on this step.
  void record(int64_t step, const float *params, const float *grad_sqnorms,
              bool clipped = false);

  const std::vector<NormHistory> &params() const { return params_; }
  const NormHistory &global() const { return global_; }
  const GradLogSettings &settings() const { return settings_; }

private:
  void writeRow(int64_t step, const std::string &name, double grad_norm,
                double weight_norm, GradFlag flag);

  const gradc_model &model_;
  GradLogSettings settings_;
  std::vector<NormHistory> params_; // trainable parameters, input to output
  NormHistory global_;
  std::unique_ptr<TextFile> csv_;
  std::string rows_;
};

} // namespace gradc

#endif // GRADC_RUNTIME_GRAD_LOG_H
