// The optimizers behind one interface: sgd (sgd.cpp) and adam and adamw
// (adam.cpp), each with PyTorch 1.13's update rule, chosen by the model's
// configuration. An optimizer keeps its per-parameter state in named slots
// laid out as the flat parameter array (the places of buffers unused) and
// counts its steps; a checkpoint stores the slots as
// optimizer.<param>.<slot> and the count as `optimizer_step`, which is all
// a resumed run needs to take the same steps. The learning rate is set
// from outside, once per epoch, by the schedule (schedule.h).
#ifndef GRADC_RUNTIME_OPTIMIZER_H
#define GRADC_RUNTIME_OPTIMIZER_H

#include "gradc/abi.h"
#include "gradc/parallel.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gradc {

enum class OptimizerKind { Sgd, Adam, AdamW };

// "sgd", "adam" or "adamw", as the model file and checkpoints name them.
const char *optimizerName(OptimizerKind kind);

struct OptimizerSettings {
  OptimizerKind kind = OptimizerKind::Sgd;
  double lr = 0.01;
  double weight_decay = 0.0;
  double momentum = 0.0; // sgd
  bool nesterov = false; // sgd
  double beta1 = 0.9;    // adam and adamw
  double beta2 = 0.999;
  double eps = 1e-8;
};

// One kind of per-parameter state, model.param_size values.
struct OptimizerSlot {
  std::string name; // "momentum_buffer", "exp_avg", "exp_avg_sq"
  std::vector<float> values;
};

class Optimizer {
public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer &) = delete;
  Optimizer &operator=(const Optimizer &) = delete;

  const OptimizerSettings &settings() const { return settings_; }
  const char *name() const { return optimizerName(settings_.kind); }

  // The rate the next steps use; the settings' lr until it is set.
  double learningRate() const { return lr_; }
  void setLearningRate(double lr) { lr_ = lr; }

  // Updates every parameter that is not a buffer from its gradient.
  void step(float *params, const float *grads);

  // Steps taken, counting those of the run a restored state came from.
  int64_t steps() const { return steps_; }

  // The names of the slots this optimizer keeps, in a fixed order; none
  // for sgd without momentum.
  std::vector<std::string> slotNames() const;
  const std::vector<OptimizerSlot> &slots() const { return slots_; }
  // Whether there is state to save: slots, and a step that filled them.
  bool hasState() const { return steps_ > 0 && !slots_.empty(); }

  // Continues a saved run: `slots` in slotNames() order, each
  // model.param_size values, and the steps that run had taken.
  void restore(std::vector<OptimizerSlot> slots, int64_t steps);

protected:
  Optimizer(const gradc_model &model, const OptimizerSettings &settings,
            const std::vector<std::string> &slot_names);

  // One update at learningRate(); steps() still counts the steps before
  // this one.
  virtual void update(float *params, const float *grads) = 0;

  float *slot(size_t index) { return slots_[index].values.data(); }

  // Calls body(at, count) for pieces of the flat parameter array, `count`
  // elements from `at`, that together cover every parameter that is not a
  // buffer once, in parallel. An update that treats each element on its
  // own so gives the same values whatever the number of threads.
  template <typename Body> void forEachTrainablePiece(Body &&body) const {
    parallelRanges(
        model_.param_size, model_.param_size, [&](int64_t first, int64_t last) {
          for (int index = 0; index < model_.num_params; ++index) {
            const gradc_param_info &param = model_.params[index];
            const int64_t begin = std::max(first, param.offset);
            const int64_t end = std::min(last, param.offset + param.size);
            if (!param.is_buffer && begin < end)
              body(begin, end - begin);
          }
        });
  }

  const gradc_model &model_;
  OptimizerSettings settings_;

private:
  double lr_;
  int64_t steps_ = 0;
  std::vector<OptimizerSlot> slots_;
};

std::unique_ptr<Optimizer> makeOptimizer(const gradc_model &model,
                                         const OptimizerSettings &settings);

} // namespace gradc

#endif // GRADC_RUNTIME_OPTIMIZER_H
