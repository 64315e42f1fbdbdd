// See grad_log.h. The CSV's columns are fixed by the product contract:
// step,param,grad_norm,weight_norm,flag.
#include "grad_log.h"

#include <cmath>
#include <fmt/format.h>

namespace gradc {

const char *flagName(GradFlag flag) {
  switch (flag) {
  case GradFlag::Ok:
    return "ok";
  case GradFlag::Vanishing:
    return "vanishing";
  case GradFlag::Exploding:
    return "exploding";
  case GradFlag::Nonfinite:
    return "nonfinite";
  case GradFlag::Clipped:
    return "clipped";
  }
  return "ok";
}

GradFlag classifyNorm(double norm, const GradLogSettings &settings) {
  if (!std::isfinite(norm))
    return GradFlag::Nonfinite;
  if (norm > settings.exploding_above)
    return GradFlag::Exploding;
  if (norm < settings.vanishing_below)
    return GradFlag::Vanishing;
  return GradFlag::Ok;
}

double NormHistory::geometricMean() const {
  // A zero norm makes the mean zero; non-finite ones are left out, since
  // training stops at the first of them anyway.
  if (positive_ == 0 || positive_ < logged - nonfinite)
    return 0;
  return std::exp(log_sum_ / static_cast<double>(positive_));
}

void NormHistory::add(int64_t step, double norm, GradFlag flag) {
  if (logged == 0) {
    first_step = step;
    first_norm = norm;
  }
  last_step = step;
  last_norm = norm;
  ++logged;

  // A gradient of exactly zero is flagged vanishing in the log, as the
  // format has it, but the summary tells it apart: units that stopped
  // responding (relus whose inputs stay negative, often after a step too
  // big) are not the shrinking product of small derivatives.
  if (flag == GradFlag::Vanishing)
    ++(norm == 0 ? zero : vanishing);
  else if (flag == GradFlag::Exploding)
    ++exploding;
  else if (flag == GradFlag::Nonfinite)
    ++nonfinite;

  if (std::isfinite(norm) && norm > 0) {
    log_sum_ += std::log(norm);
    ++positive_;
  }
}

GradNormLog::GradNormLog(const gradc_model &model, GradLogSettings settings)
    : model_(model), settings_(std::move(settings)) {
  for (int index = 0; index < model.num_params; ++index) {
    if (model.params[index].is_buffer)
      continue;
    NormHistory history;
    history.name = model.params[index].name;
    history.param_index = index;
    params_.push_back(history);
  }
  global_.name = "__global__";

  if (settings_.path.empty())
    return;
  csv_ = std::make_unique<TextFile>(settings_.path, settings_.append);
  if (csv_->startsEmpty())
    csv_->write("step,param,grad_norm,weight_norm,flag\n");
}

bool GradNormLog::isLoggedStep(int64_t step) const {
  return step == 1 || step % settings_.every == 0;
}

static double squaredNorm(const float *values, int64_t size) {
  double sum = 0;
  for (int64_t i = 0; i < size; ++i)
    sum += static_cast<double>(values[i]) * values[i];
  return sum;
}

void GradNormLog::record(int64_t step, const float *params,
                         const float *grad_sqnorms, bool clipped) {
  double grad_sum = 0;
  double weight_sum = 0;
  rows_.clear();
  for (NormHistory &history : params_) {
    const gradc_param_info &param = model_.params[history.param_index];
    const double grad_sq = grad_sqnorms[history.param_index];
    const double weight_sq = squaredNorm(params + param.offset, param.size);
    grad_sum += grad_sq;
    weight_sum += weight_sq;

    const double grad_norm = std::sqrt(grad_sq);
    const GradFlag flag = classifyNorm(grad_norm, settings_);
    history.add(step, grad_norm, flag);
    writeRow(step, history.name, grad_norm, std::sqrt(weight_sq), flag);
  }

  const double global_norm = std::sqrt(grad_sum);
  const GradFlag global_flag = classifyNorm(global_norm, settings_);
  global_.add(step, global_norm, global_flag);
  // The summary still counts the global norm's own flag.
  writeRow(step, global_.name, global_norm, std::sqrt(weight_sum),
           clipped ? GradFlag::Clipped : global_flag);
  if (csv_)
    csv_->write(rows_);
}

void GradNormLog::writeRow(int64_t step, const std::string &name,
                           double grad_norm, double weight_norm,
                           GradFlag flag) {
  if (csv_)
    fmt::format_to(std::back_inserter(rows_), "{},{},{:.6e},{:.6e},{}\n", step,
                   name, grad_norm, weight_norm, flagName(flag));
}

} // namespace gradc
