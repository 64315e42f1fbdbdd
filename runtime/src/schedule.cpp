// See schedule.h. Each step of the recurrences below is a line of
// PyTorch 1.13's StepLR.get_lr or CosineAnnealingLR.get_lr, with its
// operations in the same order.
#include "schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace gradc {

namespace {

double stepRate(const ScheduleSettings &schedule, double base, int64_t epoch) {
  double lr = base;
  for (int64_t e = 1; e <= epoch; ++e)
    if (e % schedule.every == 0)
      lr = lr * schedule.gamma;
  return lr;
}

// eta_min is 0, so PyTorch's "- eta_min" and "+ eta_min" change nothing
// and are left out. Past T_max the rate climbs back up, as PyTorch's does.
double cosineRate(double base, int64_t epoch, int64_t epochs) {
  const double pi = std::numbers::pi;
  const auto t_max = static_cast<double>(std::max<int64_t>(epochs, 1));
  const int64_t period = 2 * std::max<int64_t>(epochs, 1);
  double lr = base;
  for (int64_t e = 1; e <= epoch; ++e) {
    const auto last = static_cast<double>(e);
    if ((e - 1 - static_cast<int64_t>(t_max)) % period == 0)
      lr = lr + base * (1 - std::cos(pi / t_max)) / 2;
    else
      lr = (1 + std::cos(pi * last / t_max)) /
           (1 + std::cos(pi * (last - 1) / t_max)) * lr;
  }
  return lr;
}

} // namespace

const char *scheduleName(ScheduleKind kind) {
  switch (kind) {
  case ScheduleKind::None:
    return "none";
  case ScheduleKind::Step:
    return "step";
  case ScheduleKind::Cosine:
    return "cosine";
  }
  return "unknown";
}

double scheduledLearningRate(const ScheduleSettings &schedule, double base,
                             int64_t epoch, int64_t epochs) {
  switch (schedule.kind) {
  case ScheduleKind::None:
    return base;
  case ScheduleKind::Step:
    return stepRate(schedule, base, epoch);
  case ScheduleKind::Cosine:
    return cosineRate(base, epoch, epochs);
  }
  return base;
}

} // namespace gradc
