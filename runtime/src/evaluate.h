// Running the model over a whole split without training it, and the two
// measures the trainer reports: mean loss and accuracy (for class targets,
// the share of samples whose largest output is the true class).
#ifndef GRADC_RUNTIME_EVALUATE_H
#define GRADC_RUNTIME_EVALUATE_H

#include "dataset.h"
#include "network.h"

#include <optional>

namespace gradc {

// The call's view of a batch: class ids go to a softmax cross-entropy
// model, float (or one-hot) targets to an mse one.
BatchView<float> batchView(const gradc_model &model, const Batch &batch);

// How many rows of `output` have their largest value at the label (the
// first of equal values, as torch.argmax picks).
int64_t countCorrect(const float *output, const int32_t *labels, int64_t count,
                     int64_t outputs);

struct Evaluation {
  double loss = 0; // mean over the samples
  std::optional<double> accuracy;
  int64_t count = 0;
};

Evaluation evaluate(Network<float> &network, const Dataset &data,
                    int64_t batch_size);

} // namespace gradc

#endif // GRADC_RUNTIME_EVALUATE_H
