// A training step computed in parts: when the runtime cuts a batch, and
// that the parts' gradients, loss and outputs come out as the whole
// batch's. The model is written by hand: a linear regression y = x w^T
// with mse loss, whose gradient is easy to work out in double.
#include "network.h"

#include "gradc/kernels.h"
#include "gradc/parallel.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

namespace {

// More than one of squaredNorm's chunks, so that the norm of the averaged
// gradient adds chunks.
constexpr int64_t kInputs = gradc::kSquaredNormChunk + 5;

const gradc_param_info kParams[] = {
    {"fc.weight",
     2,
     {1, kInputs},
     0,
     kInputs,
     GRADC_INIT_ZEROS,
     0,
     kInputs,
     1,
     0,
     0},
};

// loss = mean over the batch of (x w^T - t)^2; dw = 2 mean of (y - t) x.
void trainStep(const gradc_ctx_f32 *ctx) {
  float loss = 0;
  for (int64_t j = 0; j < kInputs; ++j)
    ctx->grads[j] = 0;
  for (int64_t i = 0; i < ctx->batch; ++i) {
    const float *x = ctx->x + i * kInputs;
    float y = 0;
    for (int64_t j = 0; j < kInputs; ++j)
      y += x[j] * ctx->params[j];
    ctx->output[i] = y;
    const float error = y - ctx->targets[i];
    loss += error * error / static_cast<float>(ctx->batch);
    for (int64_t j = 0; j < kInputs; ++j)
      ctx->grads[j] += 2 * error * x[j] / static_cast<float>(ctx->batch);
    ctx->workspace[i] = error; // a part may only touch its own workspace
  }
  *ctx->loss = loss;
  // A part's norms would be of its own gradient, not of the sum.
  REQUIRE(ctx->grad_sqnorms == nullptr);
}

// One product of `*macs` multiply-adds per sample.
gradc_model regressionModel(int separable, const int64_t *macs) {
  gradc_model model{};
  model.abi_version = GRADC_ABI_VERSION;
  model.input_size = kInputs;
  model.output_size = 1;
  model.loss = GRADC_LOSS_MSE;
  model.num_params = 1;
  model.params = kParams;
  model.param_size = kInputs;
  model.workspace_per_sample = 1;
  model.train_step_f32 = trainStep;
  model.batch_separable = separable;
  model.num_products = 1;
  model.product_macs = macs;
  return model;
}

struct Batch {
  std::vector<float> x;
  std::vector<float> targets;
};

Batch makeBatch(int64_t count) {
  Batch batch;
  for (int64_t i = 0; i < count * kInputs; ++i)
    batch.x.push_back(std::sin(0.37f * static_cast<float>(i)));
  for (int64_t i = 0; i < count; ++i)
    batch.targets.push_back(std::cos(0.61f * static_cast<float>(i)));
  return batch;
}

std::vector<float> startingParams() {
  std::vector<float> params;
  for (int64_t j = 0; j < kInputs; ++j)
    params.push_back(0.01f * std::sin(1.3f * static_cast<float>(j)));
  return params;
}

gradc::BatchView<float> view(const Batch &batch) {
  gradc::BatchView<float> rows;
  rows.count = static_cast<int64_t>(batch.targets.size());
  rows.x = batch.x.data();
  rows.targets = batch.targets.data();
  return rows;
}

} // namespace

TEST_CASE("a step is cut in two only where that keeps the threads busy",
          "[parts]") {
  // Products too small to split over threads: two parts from 16 samples.
  const int64_t narrow = 64 * 64;
  const gradc_model small = regressionModel(1, &narrow);
  CHECK(gradc::trainingParts(small, 64) == 2);
  CHECK(gradc::trainingParts(small, 16) == 2);
  CHECK(gradc::trainingParts(small, 15) == 1);
  CHECK(gradc::trainingParts(small, 1) == 1);
  // Small up to four times the kernels' least work for threads (2^20
  // multiply-adds at batch 256), large past it.
  CHECK(gradc::trainingParts(small, 1024) == 2);
  CHECK(gradc::trainingParts(small, 1025) == 1);

  // BatchNorm or dropout: never.
  CHECK(gradc::trainingParts(regressionModel(0, &narrow), 64) == 1);

  // Products large enough to split, and few activations for the
  // parameters: the kernels keep the threads busy by themselves.
  const int64_t wide = 784 * 256;
  gradc_model large = regressionModel(1, &wide);
  large.param_size = 784 * 256;
  CHECK(gradc::trainingParts(large, 64) == 1);

  // Activations four times the parameters: per-sample work dominates.
  large.workspace_per_sample = 4 * 784 * 256 / 64;
  CHECK(gradc::trainingParts(large, 64) == 2);
}

TEST_CASE("info and train -v say how a batch is cut, and why", "[parts]") {
  const int64_t narrow = 64 * 64;
  const gradc_model small = regressionModel(1, &narrow);
  CHECK(gradc::describeTrainingParts(small, 33, 2) ==
        "each batch of 33 in 2 parts of 16 and 17, side by side on 2 "
        "threads, their gradients averaged: a quarter or more of the "
        "products' work is in products too small to split over threads");
  CHECK(gradc::describeTrainingParts(small, 64, 1)
            .find("2 parts of 32, one after the other on 1 thread") !=
        std::string::npos);
  CHECK(gradc::describeTrainingParts(small, 8, 2) ==
        "each batch of 8 whole: batches under 16 samples stay whole");
  CHECK(gradc::describeTrainingParts(regressionModel(0, &narrow), 64, 2)
            .find("BatchNorm") != std::string::npos);
}

TEST_CASE("a step in parts gives the whole batch's loss, gradient and "
          "outputs",
          "[parts]") {
  const int64_t tiny = 16;
  const gradc_model model = regressionModel(1, &tiny);
  const Batch batch = makeBatch(37); // parts of 18 and 19 samples
  REQUIRE(gradc::trainingParts(model, 37) == 2);

  gradc::Network<float> network(model);
  const std::vector<float> start = startingParams();
  network.params.assign(start.begin(), start.end());
  const float loss = network.trainStep(view(batch), 0);

  double whole_loss = 0;
  std::vector<double> grad(kInputs);
  for (int64_t i = 0; i < 37; ++i) {
    double y = 0;
    for (int64_t j = 0; j < kInputs; ++j)
      y += static_cast<double>(batch.x[i * kInputs + j]) * network.params[j];
    CHECK(network.output[i] == Approx(y).epsilon(1e-4));
    const double error = y - batch.targets[i];
    whole_loss += error * error / 37;
    for (int64_t j = 0; j < kInputs; ++j)
      grad[j] += 2 * error * batch.x[i * kInputs + j] / 37;
  }
  CHECK(loss == Approx(whole_loss).epsilon(1e-4));
  double norm = 0;
  int64_t wrong = 0;
  for (int64_t j = 0; j < kInputs; ++j) {
    wrong += std::abs(network.grads[j] - grad[j]) >
             1e-4 * (std::abs(grad[j]) + 1e-3);
    norm += static_cast<double>(network.grads[j]) * network.grads[j];
  }
  CHECK(wrong == 0);
  CHECK(network.grad_sqnorms[0] == Approx(norm).epsilon(1e-6));
  // Exactly what a whole step's generated code would report.
  CHECK(network.grad_sqnorms[0] ==
        gradc::squaredNorm<float>(kInputs, network.grads.data()));
}

TEST_CASE("a step in parts gives the same bits on one thread and two",
          "[parts]") {
  const int64_t tiny = 16;
  const gradc_model model = regressionModel(1, &tiny);
  const Batch batch = makeBatch(64);
  const int threads = gradc::availableThreads();

  auto run = [&](int count) {
    gradc::setThreads(count);
    gradc::Network<float> network(model);
    const std::vector<float> start = startingParams();
    network.params.assign(start.begin(), start.end());
    const float loss = network.trainStep(view(batch), 0);
    std::vector<float> result(network.grads.begin(), network.grads.end());
    result.push_back(loss);
    result.insert(result.end(), network.output.begin(), network.output.end());
    return result;
  };
  const std::vector<float> one = run(1);
  const std::vector<float> two = run(2);
  gradc::setThreads(threads);
  CHECK(one == two);
}
