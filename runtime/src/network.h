// The model's memory and its entry points, in one precision: the flat
// parameter array, the gradients, the workspace (grown to the largest batch
// seen), the outputs and the squared gradient norms. Commands own one
// Network and call trainStep or forward; the optimizer then works on
// params and grads.
#ifndef GRADC_RUNTIME_NETWORK_H
#define GRADC_RUNTIME_NETWORK_H

#include "gradc/abi.h"
#include "gradc/aligned_vector.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

// Which ABI types and entry points go with a precision.
template <typename Real> struct Precision;

template <> struct Precision<float> {
  using Context = gradc_ctx_f32;
  static constexpr const char *name = "float";
  static auto forward(const gradc_model &model) { return model.forward_f32; }
  static auto trainStep(const gradc_model &model) {
    return model.train_step_f32;
  }
};

template <> struct Precision<double> {
  using Context = gradc_ctx_f64;
  static constexpr const char *name = "double";
  static auto forward(const gradc_model &model) { return model.forward_f64; }
  static auto trainStep(const gradc_model &model) {
    return model.train_step_f64;
  }
};

// The inputs of one call: x is [count, input_size]; labels are given for
// softmax cross-entropy, targets [count, output_size] for mse.
template <typename Real> struct BatchView {
  int64_t count = 0;
  const Real *x = nullptr;
  const int32_t *labels = nullptr;
  const Real *targets = nullptr;
};

// How many parts a training step cuts a batch of `batch` samples into, to
// compute them side by side (see network.cpp), and why. It depends on the
// model and the batch only, never on the thread count, so that every
// count gives the same results.
struct TrainingParts {
  int parts = 1;
  const char *why = "";
};
TrainingParts chooseTrainingParts(const gradc_model &model, int64_t batch);
int trainingParts(const gradc_model &model, int64_t batch);
// The choice in words, for `info` and `train -v`.
std::string describeTrainingParts(const gradc_model &model, int64_t batch,
                                  int threads);

template <typename Real> class Network {
public:
  explicit Network(const gradc_model &model);

  const gradc_model &model() const { return model_; }

  // Forward, loss, every gradient and its squared norm; returns the loss.
  // `seed` seeds the call's random draws (see gradc_ctx_f32::seed). The
  // batch may be computed in parts (trainingParts).
  Real trainStep(const BatchView<Real> &batch, uint64_t seed);

  // The outputs, and the loss when the batch has labels or targets (0
  // otherwise).
  Real forward(const BatchView<Real> &batch, bool training, uint64_t seed);

  AlignedVector<Real> params;
  AlignedVector<Real> grads;
  std::vector<Real> output; // [count, output_size] of the last call
  std::vector<Real> grad_sqnorms;

private:
  // A call's context. Its workspace is `workspace` when given, or the
  // member one, grown for the batch: growing it may move it, which would
  // leave an earlier context pointing at freed memory.
  typename Precision<Real>::Context context(const BatchView<Real> &batch,
                                            bool training, uint64_t seed,
                                            Real *loss,
                                            Real *workspace = nullptr);

  // The step on the parts of a batch, side by side: each part has its own
  // workspace and gradients, and the gradients are then averaged into
  // `grads`, weighted by the parts' sizes.
  Real trainStepInParts(const BatchView<Real> &batch, uint64_t seed, int parts);
  // The context of part `part` of `parts`: its rows of the batch and of
  // the output, its workspace and gradients, and no norms.
  typename Precision<Real>::Context partContext(const BatchView<Real> &batch,
                                                uint64_t seed, int part,
                                                int parts, Real *loss);
  // grads = the parts' gradients weighted by `weights`, and their norms.
  void averageParts(const std::vector<Real> &weights);

  const gradc_model &model_;
  AlignedVector<Real> workspace_;

  // The parts' own memory, for every part after the first (which uses
  // the members above).
  struct Part {
    AlignedVector<Real> workspace;
    AlignedVector<Real> grads;
  };
  std::vector<Part> parts_;

  // The trainable parameters' gradients cut as squaredNorm cuts them, and
  // each chunk's sum of squares, for averaging the parts.
  struct GradChunk {
    int param;
    int64_t begin;
    int64_t end;
  };
  std::vector<GradChunk> chunks_;
  std::vector<double> chunk_sums_;
};

extern template class Network<float>;
extern template class Network<double>;

} // namespace gradc

#endif // GRADC_RUNTIME_NETWORK_H
