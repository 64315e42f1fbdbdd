// See evaluate.h.
#include "evaluate.h"

#include <algorithm>
#include <numeric>

namespace gradc {

BatchView<float> batchView(const gradc_model &model, const Batch &batch) {
  BatchView<float> view;
  view.count = batch.count;
  view.x = batch.x.data();
  if (model.loss == GRADC_LOSS_SOFTMAX_CROSS_ENTROPY)
    view.labels = batch.labelsOrNull();
  else
    view.targets = batch.targetsOrNull();
  return view;
}

int64_t countCorrect(const float *output, const int32_t *labels, int64_t count,
                     int64_t outputs) {
  int64_t correct = 0;
  for (int64_t row = 0; row < count; ++row) {
    const float *values = output + row * outputs;
    const auto best = std::max_element(values, values + outputs) - values;
    if (best == labels[row])
      ++correct;
  }
  return correct;
}

Evaluation evaluate(Network<float> &network, const Dataset &data,
                    int64_t batch_size) {
  const gradc_model &model = network.model();
  std::vector<int64_t> indices(static_cast<size_t>(data.count));
  std::iota(indices.begin(), indices.end(), int64_t{0});

  double loss_sum = 0;
  int64_t correct = 0;
  Batch batch;
  for (int64_t start = 0; start < data.count; start += batch_size) {
    const int64_t count = std::min(batch_size, data.count - start);
    gatherBatch(model, data,
                std::span<const int64_t>(indices).subspan(
                    static_cast<size_t>(start), static_cast<size_t>(count)),
                batch);
    const float loss =
        network.forward(batchView(model, batch), /*training=*/false, 0);
    loss_sum += static_cast<double>(loss) * static_cast<double>(count);
    if (data.hasClasses())
      correct += countCorrect(network.output.data(), batch.labels.data(), count,
                              model.output_size);
  }

  Evaluation result;
  result.count = data.count;
  if (data.count == 0)
    return result;
  result.loss = loss_sum / static_cast<double>(data.count);
  if (data.hasClasses())
    result.accuracy =
        static_cast<double>(correct) / static_cast<double>(data.count);
  return result;
}

} // namespace gradc
