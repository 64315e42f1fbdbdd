// See grad_summary.h. Ratios under 1e-3 or over 1e3 between the first and
// the last weight gradient are what a deep sigmoid or badly initialized
// network shows at step 1, long before its loss stalls.
#include "grad_summary.h"

#include "names.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <optional>
#include <vector>

namespace gradc {
namespace {

constexpr double kVanishingRatio = 1e-3;
constexpr double kExplodingRatio = 1e3;

struct WeightPair {
  const NormHistory *first;
  const NormHistory *last;
};

// The weights (rank 2 or more) of the first and the last layer that have
// one; nothing when they are in the same layer.
std::optional<WeightPair> outerWeights(const gradc_model &model,
                                       const GradNormLog &log) {
  const NormHistory *first = nullptr;
  const NormHistory *last = nullptr;
  for (const NormHistory &history : log.params()) {
    if (model.params[history.param_index].rank < 2)
      continue;
    if (!first)
      first = &history;
    last = &history;
  }
  if (!first || model.params[first->param_index].layer ==
                    model.params[last->param_index].layer)
    return std::nullopt;
  return WeightPair{first, last};
}

// No ratio where either norm is not finite: a finite norm over an
// infinite one is 0, which read as gradients vanishing in a network whose
// gradients had exploded. Nor where either is zero: a zero gradient is
// warned about on its own, as units that stopped responding.
std::optional<double> ratio(double numerator, double denominator) {
  if (!std::isfinite(numerator) || !std::isfinite(denominator) ||
      numerator == 0 || denominator == 0)
    return std::nullopt;
  const double value = numerator / denominator;
  if (!std::isfinite(value))
    return std::nullopt;
  return value;
}

void printTable(const GradNormLog &log, const std::optional<WeightPair> &pair,
                std::FILE *out) {
  const NormHistory &global = log.global();
  size_t width = global.name.size();
  for (const NormHistory &history : log.params())
    width = std::max(width, history.name.size());

  // With one logged step there is no last step or mean to show.
  const bool one_step = global.logged == 1;
  if (one_step)
    fmt::print(out, "gradient norms at step {}:\n", global.first_step);
  else
    fmt::print(out, "gradient norms, logged at {} from {} to {}:\n",
               countOf(global.logged, "step"), global.first_step,
               global.last_step);
  std::string header = fmt::format("  {:<{}}  {:>10}", "parameter", width,
                                   fmt::format("step {}", global.first_step));
  if (!one_step)
    header +=
        fmt::format("  {:>10}  {:>14}",
                    fmt::format("step {}", global.last_step), "geometric mean");
  fmt::print(out, "{}\n", header);

  auto row = [&](const NormHistory &history) {
    std::string line = fmt::format("  {:<{}}  {:>10.3e}", history.name, width,
                                   history.first_norm);
    if (!one_step)
      line += fmt::format("  {:>10.3e}  {:>14.3e}", history.last_norm,
                          history.geometricMean());
    fmt::print(out, "{}\n", line);
  };
  for (const NormHistory &history : log.params())
    row(history);
  row(global);

  if (!pair)
    return;
  auto ratioText = [](std::optional<double> value) {
    return value ? fmt::format("{:.2e}", *value) : std::string("undefined");
  };
  std::string line = fmt::format(
      "  '{}' / '{}': {} at step {}", pair->first->name, pair->last->name,
      ratioText(ratio(pair->first->first_norm, pair->last->first_norm)),
      global.first_step);
  if (!one_step)
    line += fmt::format(
        ", {} at step {}",
        ratioText(ratio(pair->first->last_norm, pair->last->last_norm)),
        global.last_step);
  fmt::print(out, "{}\n", line);
}

// Warns about the first logged step whose ratio is out of bounds.
void warnAboutRatio(const WeightPair &pair, std::FILE *warnings) {
  const std::pair<int64_t, std::optional<double>> steps[] = {
      {pair.first->first_step,
       ratio(pair.first->first_norm, pair.last->first_norm)},
      {pair.first->last_step,
       ratio(pair.first->last_norm, pair.last->last_norm)},
  };
  for (const auto &[step, value] : steps) {
    if (!value)
      continue;
    if (*value < kVanishingRatio) {
      fmt::print(warnings,
                 "warning: gradients vanish: '{}' gets a gradient {:.1e} "
                 "times as large as '{}' at step {}; the early layers "
                 "barely learn (try relu activations, batchnorm layers or "
                 "residual blocks)\n",
                 pair.first->name, *value, pair.last->name, step);
      return;
    }
    if (*value > kExplodingRatio) {
      fmt::print(warnings,
                 "warning: gradients explode: '{}' gets a gradient {:.1e} "
                 "times as large as '{}' at step {}; the early layers take "
                 "steps far too big (try a smaller --lr or batchnorm "
                 "layers)\n",
                 pair.first->name, *value, pair.last->name, step);
      return;
    }
  }
}

// One kind of threshold crossing: a line per parameter when few cross it,
// one line for them all when many do, as the early layers of a deep
// network all do together.
void warnAboutCrossings(const GradNormLog &log, const char *kind,
                        const std::string &threshold,
                        int64_t NormHistory::*crossings, std::FILE *warnings) {
  constexpr size_t kLinesEach = 3;
  std::vector<const NormHistory *> crossed;
  for (const NormHistory &history : log.params())
    if (history.*crossings > 0)
      crossed.push_back(&history);
  if (crossed.empty())
    return;

  if (crossed.size() <= kLinesEach) {
    for (const NormHistory *history : crossed)
      fmt::print(warnings,
                 "warning: '{}' has {} gradient ({}) at {} of {} logged "
                 "steps; at the last, step {}, it was {:.1e}\n",
                 history->name, kind, threshold, history->*crossings,
                 history->logged, history->last_step, history->last_norm);
    return;
  }
  const NormHistory &first = *crossed.front();
  fmt::print(warnings,
             "warning: {} parameters, from '{}' to '{}', have {} gradient "
             "({}) at some logged step; '{}' at {} of {} logged steps, and "
             "at the last, step {}, it was {:.1e}\n",
             crossed.size(), first.name, crossed.back()->name, kind, threshold,
             first.name, first.*crossings, first.logged, first.last_step,
             first.last_norm);
}

void warnAboutThresholds(const GradNormLog &log, std::FILE *warnings) {
  const GradLogSettings &settings = log.settings();
  warnAboutCrossings(log, "a vanishing",
                     fmt::format("norm under {:.0e}", settings.vanishing_below),
                     &NormHistory::vanishing, warnings);
  warnAboutCrossings(log, "an exploding",
                     fmt::format("norm over {:.0e}", settings.exploding_above),
                     &NormHistory::exploding, warnings);
  warnAboutCrossings(log, "a zero",
                     "its units may have stopped responding, as relus do "
                     "after a step too big",
                     &NormHistory::zero, warnings);
}

} // namespace

void printGradSummary(const gradc_model &model, const GradNormLog &log,
                      bool show_table, std::FILE *out, std::FILE *warnings) {
  if (log.global().logged == 0)
    return;

  const std::optional<WeightPair> pair = outerWeights(model, log);
  if (show_table)
    printTable(log, pair, out);
  // The table first, even when both streams go to one file.
  std::fflush(out);
  if (pair)
    warnAboutRatio(*pair, warnings);
  warnAboutThresholds(log, warnings);
}

} // namespace gradc
