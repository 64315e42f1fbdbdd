// What one epoch of training achieved, and its two written forms: the line
// on the console and the JSON object of the --metrics file.
#ifndef GRADC_RUNTIME_EPOCH_REPORT_H
#define GRADC_RUNTIME_EPOCH_REPORT_H

#include <cstdint>
#include <optional>
#include <string>

namespace gradc {

struct EpochReport {
  int64_t epoch = 0; // counted from 1
  int64_t epochs = 0;
  int64_t step = 0; // optimizer steps in total at the epoch's end
  int64_t batches = 0;
  int64_t batches_in_epoch = 0; // fewer batches means --steps stopped it

  std::optional<double> lr; // given when a schedule changes it
  double loss = 0;
  std::optional<double> train_accuracy;
  std::optional<double> test_loss;
  std::optional<double> test_accuracy;

  double seconds = 0;
  double samples_per_second = 0;
};

// "epoch  3/10  loss 0.3121  train_acc 0.8871  test_acc 0.8702  2.1 s
// 28571 samples/s", with "lr 0.05" after the epoch when a schedule is set
std::string consoleLine(const EpochReport &report);

// {"epoch":3,"loss":0.3121,...}, without the newline.
std::string metricsLine(const EpochReport &report);

} // namespace gradc

#endif // GRADC_RUNTIME_EPOCH_REPORT_H
