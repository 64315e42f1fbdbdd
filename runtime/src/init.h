// Initial parameter values, for every gradc_init kind. Each parameter draws
// from its own stream (seed, parameter index), so adding a layer does not
// change how the others start.
#ifndef GRADC_RUNTIME_INIT_H
#define GRADC_RUNTIME_INIT_H

#include "gradc/abi.h"

#include <cstdint>

namespace gradc {

// Fills params (model.param_size values) from the seed.
template <typename Real>
void initializeParams(const gradc_model &model, uint64_t seed, Real *params);

} // namespace gradc

#endif // GRADC_RUNTIME_INIT_H
