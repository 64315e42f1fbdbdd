// The initializers against their formulas: the uniform ones reach close to
// their limits and never past them, he_normal has its deviation, constants
// are constant, and the same seed gives the same values; and each against
// the statistics of a large weight that PyTorch drew.
#include "init.h"

#include "training_references.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

TEST_CASE("initializers keep to their bounds", "[init]") {
  const gradc_param_info params[] = {
      {"a.weight", 2, {50, 20}, 0, 1000, GRADC_INIT_DEFAULT, 0, 20, 50, 0, 0},
      {"b.weight",
       2,
       {50, 20},
       1000,
       1000,
       GRADC_INIT_HE_UNIFORM,
       0,
       20,
       50,
       1,
       0},
      {"c.weight",
       2,
       {50, 20},
       2000,
       1000,
       GRADC_INIT_XAVIER_UNIFORM,
       0,
       20,
       50,
       2,
       0},
      {"d.weight", 1, {1000}, 3000, 1000, GRADC_INIT_ONES, 0, 1, 1, 3, 0},
      {"e.weight",
       1,
       {1000},
       4000,
       1000,
       GRADC_INIT_HE_NORMAL,
       0,
       20,
       50,
       4,
       0},
  };
  gradc_model model{};
  model.num_params = 5;
  model.params = params;
  model.param_size = 5000;
  std::vector<double> values(5000);
  gradc::initializeParams(model, 3, values.data());

  auto largest = [&](int index) {
    double result = 0;
    for (int i = 0; i < 1000; ++i)
      result = std::max(result, std::abs(values[index * 1000 + i]));
    return result;
  };
  // default: 1/sqrt(20); he_uniform: sqrt(6/20); xavier: sqrt(6/70)
  CHECK(largest(0) <= 1 / std::sqrt(20.0));
  CHECK(largest(0) > 0.9 / std::sqrt(20.0));
  CHECK(largest(1) <= std::sqrt(6.0 / 20));
  CHECK(largest(1) > 0.9 * std::sqrt(6.0 / 20));
  CHECK(largest(2) <= std::sqrt(6.0 / 70));
  CHECK(std::all_of(values.begin() + 3000, values.begin() + 4000,
                    [](double v) { return v == 1.0; }));
  // he_normal: deviation sqrt(2/20)
  double squares = 0;
  for (int i = 4000; i < 5000; ++i)
    squares += values[i] * values[i];
  CHECK(std::sqrt(squares / 1000) == Approx(std::sqrt(0.1)).epsilon(0.1));

  std::vector<double> again(5000);
  gradc::initializeParams(model, 3, again.data());
  CHECK(again == values);
}

namespace {

struct Statistics {
  double mean = 0, std = 0, min = 0, max = 0;
  double within_one_std = 0; // fraction of values with |v| <= std
};

Statistics statisticsOf(const std::vector<float> &values) {
  Statistics stats;
  double sum = 0, squares = 0;
  stats.min = stats.max = values[0];
  for (float value : values) {
    sum += value;
    stats.min = std::min<double>(stats.min, value);
    stats.max = std::max<double>(stats.max, value);
  }
  const double count = static_cast<double>(values.size());
  stats.mean = sum / count;
  for (float value : values)
    squares += (value - stats.mean) * (value - stats.mean);
  stats.std = std::sqrt(squares / (count - 1));
  for (float value : values)
    stats.within_one_std += std::abs(value) <= stats.std;
  stats.within_one_std /= count;
  return stats;
}

int initKindOf(const std::string &name) {
  if (name == "default" || name == "default bias")
    return GRADC_INIT_DEFAULT;
  if (name == "he_uniform")
    return GRADC_INIT_HE_UNIFORM;
  if (name == "he_normal")
    return GRADC_INIT_HE_NORMAL;
  if (name == "xavier_uniform")
    return GRADC_INIT_XAVIER_UNIFORM;
  if (name == "xavier_normal")
    return GRADC_INIT_XAVIER_NORMAL;
  if (name == "normal")
    return GRADC_INIT_NORMAL;
  if (name == "uniform")
    return GRADC_INIT_UNIFORM;
  return GRADC_INIT_ZEROS;
}

} // namespace

// Each initializer against a large weight that torch.nn.init (or
// nn.Linear, for the default) drew with the same fans
// (make_training_references.py): the same deviation within 1%, a mean
// within 5 standard errors of 0, the same shape of distribution (the share
// of values within one deviation is 0.577 for a uniform and 0.683 for a
// normal one), and for the uniform ones the bound PyTorch's formula gives,
// reached but never passed.
TEST_CASE("initializers draw as torch.nn.init does", "[init]") {
  for (const nlohmann::json &item : trainingReferences()["initializers"]) {
    const auto name = item["name"].get<std::string>();
    INFO(name);
    const auto count = item["count"].get<int64_t>();
    const auto spread = item["spread"].get<double>();
    const auto expected_std = item["std"].get<double>();

    const bool is_bias = name == "default bias";
    const double argument = name == "normal" || name == "uniform" ? spread : 0;
    const gradc_param_info param = {
        "p.weight",
        is_bias ? 1 : 2,
        {is_bias ? count : item["fan_out"].get<int64_t>(),
         is_bias ? 0 : item["fan_in"].get<int64_t>()},
        0,
        count,
        initKindOf(name),
        argument,
        item["fan_in"].get<int64_t>(),
        item["fan_out"].get<int64_t>(),
        0,
        0};
    gradc_model model{};
    model.num_params = 1;
    model.params = &param;
    model.param_size = count;
    std::vector<float> values(static_cast<size_t>(count));
    gradc::initializeParams(model, 17, values.data());
    const Statistics stats = statisticsOf(values);

    if (name == "zeros") {
      CHECK(stats.min == 0);
      CHECK(stats.max == 0);
      continue;
    }
    CHECK(stats.std == Approx(expected_std).epsilon(0.01));
    CHECK(std::abs(stats.mean) <=
          5 * expected_std / std::sqrt(static_cast<double>(count)));
    CHECK(stats.within_one_std ==
          Approx(item["within_one_std"].get<double>()).margin(0.01));

    const bool uniform = item["max"].get<double>() <= spread;
    if (uniform) {
      CHECK(stats.std == Approx(spread / std::sqrt(3.0)).epsilon(0.01));
      CHECK(stats.max <= spread * (1 + 1e-7));
      CHECK(stats.min >= -spread * (1 + 1e-7));
      CHECK(stats.max >= 0.999 * spread);
      CHECK(stats.min <= -0.999 * spread);
    } else {
      CHECK(stats.std == Approx(spread).epsilon(0.01));
    }
  }
}
