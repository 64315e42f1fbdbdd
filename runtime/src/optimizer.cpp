// See optimizer.h: the state every optimizer shares, and the choice of
// update rule.
#include "optimizer.h"

#include "adam.h"
#include "sgd.h"

#include <fmt/format.h>
#include <stdexcept>

namespace gradc {

const char *optimizerName(OptimizerKind kind) {
  switch (kind) {
  case OptimizerKind::Sgd:
    return "sgd";
  case OptimizerKind::Adam:
    return "adam";
  case OptimizerKind::AdamW:
    return "adamw";
  }
  return "unknown";
}

Optimizer::Optimizer(const gradc_model &model,
                     const OptimizerSettings &settings,
                     const std::vector<std::string> &slot_names)
    : model_(model), settings_(settings), lr_(settings.lr) {
  for (const std::string &name : slot_names)
    slots_.push_back(
        {name, std::vector<float>(static_cast<size_t>(model.param_size))});
}

void Optimizer::step(float *params, const float *grads) {
  update(params, grads);
  ++steps_;
}

std::vector<std::string> Optimizer::slotNames() const {
  std::vector<std::string> names;
  for (const OptimizerSlot &slot : slots_)
    names.push_back(slot.name);
  return names;
}

void Optimizer::restore(std::vector<OptimizerSlot> slots, int64_t steps) {
  if (slots.size() != slots_.size())
    throw std::logic_error(fmt::format("{} keeps {} slots, but {} were given "
                                       "to restore",
                                       name(), slots_.size(), slots.size()));
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].name != slots_[i].name ||
        slots[i].values.size() != slots_[i].values.size())
      throw std::logic_error(
          fmt::format("{}'s slot '{}' of {} values cannot be restored from "
                      "'{}' of {}",
                      name(), slots_[i].name, slots_[i].values.size(),
                      slots[i].name, slots[i].values.size()));
  slots_ = std::move(slots);
  steps_ = steps;
}

std::unique_ptr<Optimizer> makeOptimizer(const gradc_model &model,
                                         const OptimizerSettings &settings) {
  switch (settings.kind) {
  case OptimizerKind::Sgd:
    return std::make_unique<Sgd>(model, settings);
  case OptimizerKind::Adam:
  case OptimizerKind::AdamW:
    return std::make_unique<Adam>(model, settings);
  }
  throw std::logic_error("an optimizer kind without an implementation");
}

} // namespace gradc
