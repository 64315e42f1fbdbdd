// `gradcheck`: compares every parameter's gradient from the backward pass
// with central finite differences, (L(p + eps) - L(p - eps)) / (2 eps), on
// a small random batch: x standard normal (random ids below the
// vocabulary when the first layer is an embedding), random class ids,
// standard normal targets (mse) or uniform ones in [0, 1) (bce_with_logits),
// parameters initialized from the seed. It runs in double
// precision when the model has double entry points, in float otherwise.
//
// The error is honest about what finite differences can resolve. Rounding
// the loss leaves the numeric derivative uncertain by about
// u * |loss| / eps (u the unit roundoff, 1.1e-16 in double), the noise
// floor. Each element's error is |analytic - numeric| / (scale +
// noise / tol), scale the larger magnitude: the plain relative error where
// the gradient stands well above the floor, and for small gradients a
// discrepancy measured against what finite differences can see, so that
// error <= tol means |a - n| <= tol * scale + noise. A parameter whose every
// checked element is below the floor, as the first layers of a deep
// sigmoid network are, is reported as below finite-difference resolution
// instead of given a meaningless ratio.
#include "command_support.h"
#include "commands.h"
#include "init.h"
#include "names.h"
#include "rng.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradc {
namespace {

// Every element of a parameter this small is checked; bigger ones get a
// seeded sample of this many.
constexpr int64_t kElementsChecked = 64;
// How many times the rounding estimate the noise allowance is, for the
// few roundings a loss accumulates; it grows further with the square root
// of the longest sum in the forward pass (a layer's fan-in), as rounding
// errors of a K-term dot product typically do.
constexpr double kNoiseMargin = 10;

double longestSum(const gradc_model &model) {
  int64_t longest = 1;
  for (int index = 0; index < model.num_params; ++index)
    longest = std::max(longest, model.params[index].fan_in);
  return static_cast<double>(longest);
}

struct GradcheckSettings {
  double eps;
  double tol;
  int64_t batch;
  uint64_t seed;
};

// Widths of the table's columns.
struct Columns {
  size_t name = 0;
  size_t shape = 0;
  size_t size = 0;
};

struct ParamResult {
  int64_t checked = 0;
  int64_t unresolved = 0; // below finite-difference resolution
  double worst = 0;
  int64_t worst_element = -1;
  double worst_analytic = 0;
  double worst_numeric = 0;
};

template <typename Real> class GradientChecker {
public:
  GradientChecker(const gradc_model &model, const GradcheckSettings &settings)
      : model_(model), settings_(settings), network_(model) {
    initializeParams(model, settings.seed, network_.params.data());
    makeBatch();
    call_seed_ = deriveSeed(settings.seed, RngStream::Dropout, 1);
  }

  int run() {
    pristine_.assign(network_.params.begin(), network_.params.end());
    loss_ = network_.trainStep(view_, call_seed_);
    analytic_.assign(network_.grads.begin(), network_.grads.end());
    const std::vector<Real> sqnorms = network_.grad_sqnorms;
    restore();
    noise_ = kNoiseMargin * std::sqrt(longestSum(model_)) *
             std::numeric_limits<Real>::epsilon() / 2 *
             std::abs(static_cast<double>(loss_)) / settings_.eps;

    fmt::print("gradcheck: {} precision, batch {}, eps {:g}, tol {:g}, "
               "loss {:.6g}\n",
               Precision<Real>::name, settings_.batch, settings_.eps,
               settings_.tol, static_cast<double>(loss_));
    Columns columns;
    for (int index = 0; index < model_.num_params; ++index) {
      const gradc_param_info &param = model_.params[index];
      columns.name = std::max(columns.name, std::string(param.name).size());
      columns.shape =
          std::max(columns.shape, formatShape(param.rank, param.shape).size());
      columns.size =
          std::max(columns.size, fmt::formatted_size("{}", param.size));
    }

    int failures = 0;
    int checked = 0;
    Rng sampler(deriveSeed(settings_.seed, RngStream::GradcheckSample, 0));
    for (int index = 0; index < model_.num_params; ++index) {
      const gradc_param_info &param = model_.params[index];
      if (param.is_buffer)
        continue;
      const ParamResult result = checkParam(param, sampler);
      const bool norm_ok = checkSqnorm(param, sqnorms[index]);
      const bool ok = result.worst <= settings_.tol && norm_ok;
      failures += ok ? 0 : 1;
      ++checked;
      printResult(param, result, ok, columns);
    }

    if (failures > 0) {
      fmt::print("gradcheck failed: {} of {} parameters exceed the tolerance "
                 "{:g}\n",
                 failures, checked, settings_.tol);
      return 1;
    }
    fmt::print("gradcheck passed\n");
    return 0;
  }

private:
  void makeBatch() {
    Rng rng(deriveSeed(settings_.seed, RngStream::GradcheckData, 0));
    const int64_t count = settings_.batch;
    x_.resize(static_cast<size_t>(count * model_.input_size));
    for (Real &value : x_)
      value = static_cast<Real>(rng.normal());
    // An embedding reads ids; normal draws would name no row.
    if (model_.input_is_ids)
      for (Real &value : x_)
        value = static_cast<Real>(
            rng.below(static_cast<uint64_t>(model_.input_vocab)));
    if (model_.loss != GRADC_LOSS_SOFTMAX_CROSS_ENTROPY) {
      // Binary cross-entropy's targets are probabilities.
      const bool probabilities = model_.loss == GRADC_LOSS_BCE_WITH_LOGITS;
      targets_.resize(static_cast<size_t>(count * model_.output_size));
      for (Real &value : targets_)
        value = static_cast<Real>(probabilities ? rng.uniform() : rng.normal());
    } else {
      for (int64_t i = 0; i < count; ++i)
        labels_.push_back(static_cast<int32_t>(
            rng.below(static_cast<uint64_t>(model_.output_size))));
    }
    view_.count = count;
    view_.x = x_.data();
    view_.labels = labels_.empty() ? nullptr : labels_.data();
    view_.targets = targets_.empty() ? nullptr : targets_.data();
  }

  // Undoes what a training-mode call may have written into the parameters
  // (BatchNorm's running statistics), so every loss is taken at the same
  // point.
  void restore() {
    for (int index = 0; index < model_.num_params; ++index) {
      const gradc_param_info &param = model_.params[index];
      if (param.is_buffer)
        std::copy_n(pristine_.begin() + param.offset, param.size,
                    network_.params.begin() + param.offset);
    }
  }

  double lossWith(int64_t element, Real value) {
    network_.params[element] = value;
    const Real loss = network_.forward(view_, /*training=*/true, call_seed_);
    network_.params[element] = pristine_[element];
    restore();
    return static_cast<double>(loss);
  }

  ParamResult checkParam(const gradc_param_info &param, Rng &sampler) {
    ParamResult result;
    const Real eps = static_cast<Real>(settings_.eps);
    for (int64_t i : sampleIndices(param.size, kElementsChecked, sampler)) {
      const int64_t element = param.offset + i;
      const Real at = pristine_[element];
      const double numeric =
          (lossWith(element, at + eps) - lossWith(element, at - eps)) /
          (2 * settings_.eps);
      const double analytic = static_cast<double>(analytic_[element]);
      ++result.checked;

      const double scale = std::max(std::abs(analytic), std::abs(numeric));
      if (scale <= noise_) {
        ++result.unresolved;
        continue;
      }
      const double error =
          std::abs(analytic - numeric) / (scale + noise_ / settings_.tol);
      if (error >= result.worst || !std::isfinite(error)) {
        result.worst = std::isfinite(error) ? error : HUGE_VAL;
        result.worst_element = i;
        result.worst_analytic = analytic;
        result.worst_numeric = numeric;
      }
    }
    return result;
  }

  // The generated code reports each gradient's squared norm; it has to be
  // the norm of the gradient it wrote.
  bool checkSqnorm(const gradc_param_info &param, Real reported) {
    double sum = 0;
    for (int64_t i = 0; i < param.size; ++i)
      sum += static_cast<double>(analytic_[param.offset + i]) *
             analytic_[param.offset + i];
    const double allowed =
        1e3 * std::numeric_limits<Real>::epsilon() * std::max(sum, 1e-300);
    if (std::abs(static_cast<double>(reported) - sum) <= allowed)
      return true;
    fmt::print("  '{}': grad_sqnorms says {:.6e}, but the squared norm of its "
               "gradient is {:.6e}\n",
               param.name, static_cast<double>(reported), sum);
    return false;
  }

  void printResult(const gradc_param_info &param, const ParamResult &result,
                   bool ok, const Columns &columns) {
    const std::string head =
        fmt::format("  {:<{}}  {:<{}}  {:>2} of {:<{}} checked", param.name,
                    columns.name, formatShape(param.rank, param.shape),
                    columns.shape, result.checked, param.size, columns.size);
    if (result.unresolved == result.checked) {
      fmt::print("{}  below finite-difference resolution (|gradient| under "
                 "{:.1e})  {}\n",
                 head, noise_, ok ? "ok" : "FAILED");
      return;
    }
    std::string detail =
        fmt::format("worst relative error {:.2e}", result.worst);
    if (!ok && result.worst_element >= 0)
      detail += fmt::format(" at element {} (analytic {:.6e}, numeric {:.6e})",
                            result.worst_element, result.worst_analytic,
                            result.worst_numeric);
    if (result.unresolved > 0)
      detail += fmt::format(", {} below resolution", result.unresolved);
    fmt::print("{}  {}  {}\n", head, detail, ok ? "ok" : "FAILED");
  }

  const gradc_model &model_;
  GradcheckSettings settings_;
  Network<Real> network_;
  std::vector<Real> x_, targets_;
  std::vector<int32_t> labels_;
  BatchView<Real> view_;
  uint64_t call_seed_ = 0;

  std::vector<Real> pristine_, analytic_;
  Real loss_ = 0;
  double noise_ = 0;
};

} // namespace

int runGradcheck(const gradc_model &model, const Options &options) {
  const bool in_double = model.forward_f64 && model.train_step_f64;
  GradcheckSettings settings;
  settings.eps = options.eps.value_or(in_double ? 1e-6 : 1e-3);
  settings.tol = options.tol.value_or(in_double ? 1e-5 : 1e-2);
  settings.batch = options.batch.value_or(4);
  settings.seed = options.seed.value_or(model.config->seed);

  if (in_double)
    return GradientChecker<double>(model, settings).run();
  note(options, "the model has no double entry points; checking in float");
  return GradientChecker<float>(model, settings).run();
}

} // namespace gradc
