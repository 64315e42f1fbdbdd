// The initializers, with PyTorch's formulas:
//   default         U(-1/sqrt(fan_in), 1/sqrt(fan_in)), what nn.Linear and
//                   nn.Conv2d do to weight and bias alike; the code
//                   generator sets fan_in to the hidden size for recurrent
//                   layers and names ones/zeros/normal for the layers whose
//                   PyTorch default is one of those
//   he_uniform      U(-b, b), b = sqrt(2) * sqrt(3 / fan_in)
//   he_normal       N(0, sqrt(2) / sqrt(fan_in))
//   xavier_uniform  U(-b, b), b = sqrt(6 / (fan_in + fan_out))
//   xavier_normal   N(0, sqrt(2 / (fan_in + fan_out)))
//   normal, uniform N(0, arg), U(-arg, arg)
#include "init.h"

#include "rng.h"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace gradc {
namespace {

enum class Distribution { Uniform, Normal, Constant };

struct Recipe {
  Distribution distribution;
  double scale; // the uniform limit, the normal's deviation, or the value
};

double positiveFan(const gradc_param_info &param, int64_t fan) {
  if (fan <= 0)
    throw std::logic_error(fmt::format(
        "the model gives '{}' a fan of {}, which its initializer divides by",
        param.name, fan));
  return static_cast<double>(fan);
}

Recipe recipeFor(const gradc_param_info &param) {
  const double he_gain = std::sqrt(2.0);
  switch (param.init) {
  case GRADC_INIT_DEFAULT:
    return {Distribution::Uniform,
            1.0 / std::sqrt(positiveFan(param, param.fan_in))};
  case GRADC_INIT_HE_UNIFORM:
    return {Distribution::Uniform,
            he_gain * std::sqrt(3.0 / positiveFan(param, param.fan_in))};
  case GRADC_INIT_HE_NORMAL:
    return {Distribution::Normal,
            he_gain / std::sqrt(positiveFan(param, param.fan_in))};
  case GRADC_INIT_XAVIER_UNIFORM:
    return {Distribution::Uniform,
            std::sqrt(6.0 / positiveFan(param, param.fan_in + param.fan_out))};
  case GRADC_INIT_XAVIER_NORMAL:
    return {Distribution::Normal,
            std::sqrt(2.0 / positiveFan(param, param.fan_in + param.fan_out))};
  case GRADC_INIT_NORMAL:
    return {Distribution::Normal, param.init_arg};
  case GRADC_INIT_UNIFORM:
    return {Distribution::Uniform, param.init_arg};
  case GRADC_INIT_ZEROS:
    return {Distribution::Constant, 0.0};
  case GRADC_INIT_ONES:
    return {Distribution::Constant, 1.0};
  }
  throw std::logic_error(fmt::format("the model gives '{}' the unknown "
                                     "initializer {}",
                                     param.name, param.init));
}

} // namespace

template <typename Real>
void initializeParams(const gradc_model &model, uint64_t seed, Real *params) {
  for (int index = 0; index < model.num_params; ++index) {
    const gradc_param_info &param = model.params[index];
    const Recipe recipe = recipeFor(param);
    Rng rng(deriveSeed(seed, RngStream::Init, static_cast<uint64_t>(index)));

    Real *values = params + param.offset;
    for (int64_t i = 0; i < param.size; ++i) {
      double value = recipe.scale;
      if (recipe.distribution == Distribution::Uniform)
        value = (2.0 * rng.uniform() - 1.0) * recipe.scale;
      else if (recipe.distribution == Distribution::Normal)
        value = rng.normal() * recipe.scale;
      values[i] = static_cast<Real>(value);
    }
  }
}

template void initializeParams<float>(const gradc_model &, uint64_t, float *);
template void initializeParams<double>(const gradc_model &, uint64_t, double *);

} // namespace gradc
