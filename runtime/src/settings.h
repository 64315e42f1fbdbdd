// What a run uses: the model file's configuration (gradc_config) with the
// command line's overrides applied, resolved in one place so the rest of
// the trainer never looks at two sources.
#ifndef GRADC_RUNTIME_SETTINGS_H
#define GRADC_RUNTIME_SETTINGS_H

#include "dataset.h"
#include "grad_log.h"
#include "optimizer.h"
#include "options.h"
#include "schedule.h"

#include <optional>

namespace gradc {

struct DataSettings {
  std::optional<DataFiles> train;
  std::optional<DataFiles> test;
  InputTransform transform;
};

DataSettings resolveData(const gradc_config &config, const DataOptions &data);
// The optimizer with --lr, when given, as its base learning rate.
OptimizerSettings resolveOptimizer(const gradc_config &config,
                                   const Options &options);
ScheduleSettings resolveSchedule(const gradc_config &config);
GradLogSettings resolveGradLog(const gradc_config &config,
                               const Options &options);
int64_t resolveBatch(const gradc_config &config, const Options &options);
uint64_t resolveSeed(const gradc_config &config, const Options &options);

} // namespace gradc

#endif // GRADC_RUNTIME_SETTINGS_H
