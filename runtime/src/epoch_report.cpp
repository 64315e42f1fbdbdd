// See epoch_report.h. The metrics keys are the product contract's; "step",
// "lr", "test_loss" and "partial" are additions.
#include "epoch_report.h"

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace gradc {

std::string consoleLine(const EpochReport &report) {
  const auto digits = fmt::formatted_size("{}", report.epochs);
  std::string line =
      fmt::format("epoch {:>{}}/{}", report.epoch, digits, report.epochs);
  if (report.lr)
    line += fmt::format("  lr {:.4g}", *report.lr);
  line += fmt::format("  loss {:.4f}", report.loss);
  if (report.train_accuracy)
    line += fmt::format("  train_acc {:.4f}", *report.train_accuracy);
  // Where accuracy does not apply, the test loss is the one test measure.
  if (report.test_loss && !report.test_accuracy)
    line += fmt::format("  test_loss {:.4f}", *report.test_loss);
  if (report.test_accuracy)
    line += fmt::format("  test_acc {:.4f}", *report.test_accuracy);
  line += fmt::format("  {:.1f} s  {:.0f} samples/s", report.seconds,
                      report.samples_per_second);
  if (report.batches < report.batches_in_epoch)
    line += fmt::format("  (stopped at step {}, after {} of {} batches)",
                        report.step, report.batches, report.batches_in_epoch);
  return line;
}

std::string metricsLine(const EpochReport &report) {
  nlohmann::ordered_json record;
  record["epoch"] = report.epoch;
  record["step"] = report.step;
  if (report.lr)
    record["lr"] = *report.lr;
  record["loss"] = report.loss;
  if (report.train_accuracy)
    record["train_acc"] = *report.train_accuracy;
  if (report.test_loss)
    record["test_loss"] = *report.test_loss;
  if (report.test_accuracy)
    record["test_acc"] = *report.test_accuracy;
  record["seconds"] = std::round(report.seconds * 1000) / 1000;
  record["samples_per_s"] = std::llround(report.samples_per_second);
  if (report.batches < report.batches_in_epoch)
    record["partial"] = true;
  return record.dump();
}

} // namespace gradc
