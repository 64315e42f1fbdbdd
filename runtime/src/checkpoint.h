// Checkpoints: safetensors files of F32 tensors named as PyTorch names the
// parameters ("<layer>.<param>", buffers included), so they load into the
// equivalent torch.nn model. A training checkpoint adds the optimizer's
// state as optimizer.<param>.<slot> (momentum_buffer for sgd, exp_avg and
// exp_avg_sq for adam and adamw), and the optimizer's name and step count
// and the training position in the header's __metadata__, which is all
// `train --resume` needs to end bit for bit where an uninterrupted run
// ends: the random streams are derived from the seed and the position (see
// rng.h), and the learning rate from the epoch (see schedule.h).
#ifndef GRADC_RUNTIME_CHECKPOINT_H
#define GRADC_RUNTIME_CHECKPOINT_H

#include "gradc/abi.h"
#include "optimizer.h"
#include "tensor_io.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

struct TrainingPosition {
  int64_t epoch = 0;          // epochs completed
  int64_t batch_in_epoch = 0; // batches of the next epoch already taken
  int64_t step = 0;           // optimizer steps in total
  uint64_t seed = 0;
  int64_t batch = 0; // the batch size, which fixes what a position means

  // The epoch in progress so far, so that its line reads the same after a
  // resume as in an uninterrupted run.
  double loss_sum = 0;
  int64_t correct = 0;
  int64_t seen = 0;
};

// One parameter's values, cut out of a flat array in the parameters'
// layout, with its shape.
HostTensor paramTensor(const gradc_param_info &param, const float *values);

// Writes parameters, optimizer state and position atomically.
void saveCheckpoint(const std::string &path, const gradc_model &model,
                    const float *params, const Optimizer &optimizer,
                    const TrainingPosition &position);

// Reads the parameters alone (a PyTorch state_dict saved with the same
// names loads too); names and shapes must match the model's.
void loadParameters(const std::string &path, const gradc_model &model,
                    float *params);

// Reads parameters, optimizer state and position of a training
// checkpoint, restores the state into `optimizer` and returns the
// position. A checkpoint without optimizer state (saved before the first
// step, or by sgd without momentum) leaves the optimizer fresh, as
// PyTorch's is; one saved by another optimizer is refused.
TrainingPosition loadForResume(const std::string &path,
                               const gradc_model &model, float *params,
                               Optimizer &optimizer);

} // namespace gradc

#endif // GRADC_RUNTIME_CHECKPOINT_H
