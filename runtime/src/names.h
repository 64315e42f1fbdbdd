// Words for what the ABI stores as numbers and arrays: shapes, losses,
// initializers. Messages and `info` use these, so they read the same
// everywhere.
#ifndef GRADC_RUNTIME_NAMES_H
#define GRADC_RUNTIME_NAMES_H

#include "gradc/abi.h"

#include <cstdint>
#include <span>
#include <string>

namespace gradc {

// "[3, 4]"; "[]" for a scalar.
std::string formatShape(std::span<const int64_t> shape);
std::string formatShape(int rank, const int64_t *shape);

std::string lossName(int loss);
std::string initName(const gradc_param_info &param);

// "1 value", "4 values".
std::string countOf(int64_t count, const std::string &noun);

int64_t elementCount(std::span<const int64_t> shape);

} // namespace gradc

#endif // GRADC_RUNTIME_NAMES_H
