// See names.h.
#include "names.h"

#include <fmt/format.h>

namespace gradc {

std::string formatShape(std::span<const int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::string formatShape(int rank, const int64_t *shape) {
  return formatShape(
      std::span<const int64_t>(shape, static_cast<size_t>(rank)));
}

std::string lossName(int loss) {
  switch (loss) {
  case GRADC_LOSS_SOFTMAX_CROSS_ENTROPY:
    return "softmax_cross_entropy";
  case GRADC_LOSS_MSE:
    return "mse";
  case GRADC_LOSS_BCE_WITH_LOGITS:
    return "bce_with_logits";
  }
  return fmt::format("unknown loss {}", loss);
}

std::string initName(const gradc_param_info &param) {
  switch (param.init) {
  case GRADC_INIT_DEFAULT:
    return "default";
  case GRADC_INIT_HE_UNIFORM:
    return "he_uniform";
  case GRADC_INIT_HE_NORMAL:
    return "he_normal";
  case GRADC_INIT_XAVIER_UNIFORM:
    return "xavier_uniform";
  case GRADC_INIT_XAVIER_NORMAL:
    return "xavier_normal";
  case GRADC_INIT_NORMAL:
    return fmt::format("normal {:g}", param.init_arg);
  case GRADC_INIT_UNIFORM:
    return fmt::format("uniform {:g}", param.init_arg);
  case GRADC_INIT_ZEROS:
    return "zeros";
  case GRADC_INIT_ONES:
    return "ones";
  }
  return fmt::format("unknown init {}", param.init);
}

std::string countOf(int64_t count, const std::string &noun) {
  return fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s");
}

int64_t elementCount(std::span<const int64_t> shape) {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

} // namespace gradc
