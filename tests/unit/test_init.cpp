// The initializers against their formulas: the uniform ones reach close to
// their limits and never past them, he_normal has its deviation, constants
// are constant, and the same seed gives the same values.
#include "init.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
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
