// Cutting a batch out of IDX bytes: every byte converts through the
// split's table, whatever the sample size, in the order the indices give.
#include "dataset.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

TEST_CASE("a batch of IDX samples converts each byte through the table",
          "[dataset]") {
  gradc_config config{};
  for (const int64_t sample_size : {1, 15, 16, 17, 784, 790}) {
    gradc_model model{};
    model.config = &config;
    model.loss = GRADC_LOSS_SOFTMAX_CROSS_ENTROPY;
    model.input_size = sample_size;

    gradc::Dataset data;
    data.count = 5;
    data.sample_size = sample_size;
    for (int64_t i = 0; i < data.count * sample_size; ++i)
      data.raw_inputs.push_back(static_cast<uint8_t>((i * 37 + 11) % 256));
    for (int value = 0; value < 256; ++value)
      data.byte_values.push_back(0.5f * static_cast<float>(value) - 3.0f);
    data.labels = {0, 1, 2, 3, 4};

    const std::vector<int64_t> indices = {3, 0, 4, 4};
    gradc::Batch batch;
    gradc::gatherBatch(model, data, indices, batch);

    REQUIRE(batch.x.size() == indices.size() * sample_size);
    int64_t wrong = 0;
    for (size_t row = 0; row < indices.size(); ++row)
      for (int64_t i = 0; i < sample_size; ++i) {
        const uint8_t byte = data.raw_inputs[indices[row] * sample_size + i];
        wrong += batch.x[row * sample_size + i] != data.byte_values[byte];
      }
    CHECK(wrong == 0);
    CHECK(batch.labels == std::vector<int32_t>{3, 0, 4, 4});
  }
}
