// Learning-rate schedules, stepped once per epoch as PyTorch users step
// theirs at the end of each epoch:
//   step    StepLR(step_size = every, gamma): the rate is multiplied by
//           gamma after every `every` epochs
//   cosine  CosineAnnealingLR(T_max = the run's epochs, eta_min = 0)
// PyTorch computes each epoch's rate from the previous one, not from a
// closed form, and the two differ in the last bits; the rate here follows
// the same recurrence in double precision, so it is the very number
// PyTorch's optimizer would read. It depends only on the epoch, which is
// why a resumed run continues the schedule exactly.
#ifndef GRADC_RUNTIME_SCHEDULE_H
#define GRADC_RUNTIME_SCHEDULE_H

#include <cstdint>

namespace gradc {

enum class ScheduleKind { None, Step, Cosine };

struct ScheduleSettings {
  ScheduleKind kind = ScheduleKind::None;
  int64_t every = 1; // step
  double gamma = 1;  // step
};

// "none", "step" or "cosine".
const char *scheduleName(ScheduleKind kind);

// The rate of epoch `epoch` (from 0) in a run of `epochs` epochs whose
// rate starts at `base`: the scheduler's rate after `epoch` calls of
// step().
double scheduledLearningRate(const ScheduleSettings &schedule, double base,
                             int64_t epoch, int64_t epochs);

} // namespace gradc

#endif // GRADC_RUNTIME_SCHEDULE_H
