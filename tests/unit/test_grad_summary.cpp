// The gradient-norm log's bookkeeping and the summary's warnings, on a
// two-layer model description fed with chosen norms.
#include "grad_summary.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

namespace {

const gradc_param_info kParams[] = {
    {"l0.weight", 2, {2, 2}, 0, 4, GRADC_INIT_DEFAULT, 0, 2, 2, 0, 0},
    {"l0.bias", 1, {2}, 4, 2, GRADC_INIT_DEFAULT, 0, 2, 2, 0, 0},
    {"l1.weight", 2, {2, 2}, 6, 4, GRADC_INIT_DEFAULT, 0, 2, 2, 1, 0},
};

gradc_model twoLayerModel() {
  gradc_model model{};
  model.num_params = 3;
  model.params = kParams;
  model.param_size = 10;
  return model;
}

std::string contents(std::FILE *file) {
  std::rewind(file);
  std::string text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file))
    text += static_cast<char>(c);
  return text;
}

// The summary's table and its warnings, as printGradSummary writes them.
std::pair<std::string, std::string> summaryOf(const gradc_model &model,
                                              const gradc::GradNormLog &log) {
  std::FILE *out = std::tmpfile();
  std::FILE *warnings = std::tmpfile();
  gradc::printGradSummary(model, log, true, out, warnings);
  std::pair<std::string, std::string> printed{contents(out),
                                              contents(warnings)};
  std::fclose(out);
  std::fclose(warnings);
  return printed;
}

// Records the three parameters' squared gradient norms, `first` at step 1
// and `second` at step 2.
void recordTwoSteps(gradc::GradNormLog &log, const float (&first)[3],
                    const float (&second)[3]) {
  const float params[10] = {1, 1, 1, 1, 0, 0, 1, 1, 1, 1};
  log.record(1, params, first);
  log.record(2, params, second);
}

gradc::GradLogSettings everyStep() {
  gradc::GradLogSettings settings;
  settings.every = 1;
  return settings;
}

} // namespace

TEST_CASE("norms are flagged against the thresholds", "[grad_log]") {
  gradc::GradLogSettings settings;
  settings.vanishing_below = 1e-6;
  settings.exploding_above = 1e3;
  CHECK(gradc::classifyNorm(1.0, settings) == gradc::GradFlag::Ok);
  CHECK(gradc::classifyNorm(1e-7, settings) == gradc::GradFlag::Vanishing);
  CHECK(gradc::classifyNorm(1e4, settings) == gradc::GradFlag::Exploding);
  CHECK(gradc::classifyNorm(NAN, settings) == gradc::GradFlag::Nonfinite);
}

TEST_CASE("logged steps are step 1 and every multiple of N", "[grad_log]") {
  const gradc_model model = twoLayerModel();
  gradc::GradLogSettings settings;
  settings.every = 50;
  const gradc::GradNormLog log(model, settings);
  CHECK(log.isLoggedStep(1));
  CHECK_FALSE(log.isLoggedStep(2));
  CHECK_FALSE(log.isLoggedStep(51));
  CHECK(log.isLoggedStep(50));
  CHECK(log.isLoggedStep(100));
}

TEST_CASE("the summary warns when the first layer's gradient vanishes",
          "[grad_log]") {
  const gradc_model model = twoLayerModel();
  gradc::GradNormLog log(model, everyStep());
  // Norms 1e-10 (l0.weight), 1e-10 (l0.bias) and 1 (l1.weight), then
  // 1e-4, 1e-4 and 1 at step 2.
  recordTwoSteps(log, {1e-20f, 1e-20f, 1.0f}, {1e-8f, 1e-8f, 1.0f});

  CHECK(log.params()[0].first_norm == Approx(1e-10));
  CHECK(log.params()[0].last_norm == Approx(1e-4));
  CHECK(log.params()[0].geometricMean() == Approx(1e-7));
  CHECK(log.params()[0].vanishing == 1);

  const auto [table, warned] = summaryOf(model, log);

  INFO(table << warned);
  CHECK(table.find("logged at 2 steps from 1 to 2") != std::string::npos);
  CHECK(table.find("l0.weight") < table.find("l1.weight"));
  CHECK(warned.find("warning: gradients vanish: 'l0.weight' gets a gradient "
                    "1.0e-10 times as large as 'l1.weight' at step 1; the "
                    "early layers barely learn") != std::string::npos);
  CHECK(warned.find("warning: 'l0.bias' has a vanishing gradient (norm under "
                    "1e-06) at 1 of 2 logged steps") != std::string::npos);
}

TEST_CASE("an infinite norm is not read as gradients vanishing", "[grad_log]") {
  const gradc_model model = twoLayerModel();
  gradc::GradNormLog log(model, everyStep());
  // l1.weight's gradient overflows at step 2; l0.weight's is still 1.
  recordTwoSteps(log, {1.0f, 1.0f, 1.0f}, {1.0f, 1.0f, INFINITY});

  const auto [table, warned] = summaryOf(model, log);

  INFO(table << warned);
  CHECK(warned.find("gradients vanish") == std::string::npos);
  CHECK(table.find("0.00e+00 at step 2") == std::string::npos);
}

TEST_CASE("a zero gradient is not read as gradients vanishing", "[grad_log]") {
  const gradc_model model = twoLayerModel();
  gradc::GradNormLog log(model, everyStep());
  // The first layer's units stop responding at step 2: its gradients are
  // zero, while the last layer's is still 1.
  recordTwoSteps(log, {1.0f, 1.0f, 1.0f}, {0.0f, 0.0f, 1.0f});

  CHECK(log.params()[0].zero == 1);
  CHECK(log.params()[0].vanishing == 0);
  const auto [table, warned] = summaryOf(model, log);

  INFO(table << warned);
  CHECK(warned.find("warning: 'l0.weight' has a zero gradient (its units "
                    "may have stopped responding") != std::string::npos);
  CHECK(warned.find("vanish") == std::string::npos);
}
