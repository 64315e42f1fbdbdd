// The optimizers against PyTorch: several steps of torch.optim.Adam,
// AdamW and SGD from the same parameters and gradients, with the learning
// rate changed between steps as a schedule changes it
// (make_training_references.py). The runtime rounds as PyTorch's kernels
// do, but PyTorch's vectorized kernels may fuse a multiply and an add
// where the runtime rounds twice, so each value is allowed a relative
// error of kTolerance. Saving and restoring the state between two steps,
// directly or through a checkpoint, must change nothing at all.
#include "optimizer.h"

#include "checkpoint.h"
#include "errors.h"
#include "temp_dir.h"
#include "training_references.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

namespace {

constexpr double kTolerance = 2e-6;

// Two trainable parameters with a buffer between them, which no
// optimizer may touch.
const gradc_param_info kParams[] = {
    {"a.weight", 2, {3, 4}, 0, 12, GRADC_INIT_ZEROS, 0, 4, 3, 0, 0},
    {"a.running", 1, {2}, 12, 2, GRADC_INIT_ZEROS, 0, 1, 1, 0, 1},
    {"a.bias", 1, {3}, 14, 3, GRADC_INIT_ZEROS, 0, 4, 3, 0, 0},
};
constexpr int64_t kOffsets[] = {0, 14};
constexpr int64_t kBufferOffset = 12;
constexpr int64_t kSize = 17;

gradc_model makeModel() {
  gradc_model model{};
  model.name = "two_params";
  model.num_params = 3;
  model.params = kParams;
  model.param_size = kSize;
  return model;
}

gradc::OptimizerSettings settingsOf(const nlohmann::json &json) {
  gradc::OptimizerSettings settings;
  const std::string type = json["type"];
  settings.kind = type == "sgd"    ? gradc::OptimizerKind::Sgd
                  : type == "adam" ? gradc::OptimizerKind::Adam
                                   : gradc::OptimizerKind::AdamW;
  settings.lr = json["lr"];
  settings.weight_decay = json["weight_decay"];
  settings.momentum = json.value("momentum", 0.0);
  settings.nesterov = json.value("nesterov", false);
  settings.beta1 = json.value("beta1", 0.9);
  settings.beta2 = json.value("beta2", 0.999);
  settings.eps = json.value("eps", 1e-8);
  return settings;
}

// The two parameters' values of `json` ([[...], [...]]) in the flat
// layout, with `fill` in the buffer's place.
std::vector<float> flat(const nlohmann::json &json, float fill) {
  std::vector<float> values(kSize, fill);
  for (size_t param = 0; param < 2; ++param)
    for (size_t i = 0; i < json[param].size(); ++i)
      values[kOffsets[param] + i] = json[param][i].get<float>();
  return values;
}

// The worst relative error of the parameters' values against `expected`.
double worstError(const std::vector<float> &values,
                  const nlohmann::json &expected) {
  double worst = 0;
  const std::vector<float> reference = flat(expected, 0);
  for (int64_t i = 0; i < kSize; ++i) {
    if (i >= kBufferOffset && i < kBufferOffset + 2)
      continue;
    const double scale = std::max(std::abs(double(reference[i])), 1e-6);
    worst = std::max(worst, std::abs(double(values[i]) - reference[i]) / scale);
  }
  return worst;
}

} // namespace

TEST_CASE("optimizers take PyTorch's steps", "[optimizer]") {
  const gradc_model model = makeModel();
  for (const nlohmann::json &item : trainingReferences()["optimizers"]) {
    INFO(item["name"].get<std::string>());
    const std::unique_ptr<gradc::Optimizer> optimizer =
        gradc::makeOptimizer(model, settingsOf(item["settings"]));
    std::vector<float> params = flat(item["params"], 5.0f);

    const nlohmann::json &steps = item["grads"];
    REQUIRE(steps.size() > 2);
    for (size_t step = 0; step < steps.size(); ++step) {
      INFO("step " << step + 1);
      optimizer->setLearningRate(item["lrs"][step].get<double>());
      const std::vector<float> grads = flat(steps[step], 3.0f);
      optimizer->step(params.data(), grads.data());
      CHECK(worstError(params, item["after"][step]) <= kTolerance);
      CHECK(params[kBufferOffset] == 5.0f);
    }

    CHECK(optimizer->steps() == static_cast<int64_t>(steps.size()));
    for (const gradc::OptimizerSlot &slot : optimizer->slots()) {
      INFO("slot " << slot.name);
      REQUIRE(item["state"].contains(slot.name));
      CHECK(worstError(slot.values, item["state"][slot.name]) <= kTolerance);
    }
  }
}

TEST_CASE("a restored optimizer continues bit for bit", "[optimizer]") {
  const gradc_model model = makeModel();
  for (const nlohmann::json &item : trainingReferences()["optimizers"]) {
    INFO(item["name"].get<std::string>());
    const gradc::OptimizerSettings settings = settingsOf(item["settings"]);
    const nlohmann::json &steps = item["grads"];
    const size_t half = steps.size() / 2;

    auto straight = gradc::makeOptimizer(model, settings);
    auto first = gradc::makeOptimizer(model, settings);
    std::vector<float> straight_params = flat(item["params"], 5.0f);
    std::vector<float> split_params = straight_params;
    for (size_t step = 0; step < steps.size(); ++step) {
      const std::vector<float> grads = flat(steps[step], 3.0f);
      straight->setLearningRate(item["lrs"][step].get<double>());
      straight->step(straight_params.data(), grads.data());
      if (step < half) {
        first->setLearningRate(item["lrs"][step].get<double>());
        first->step(split_params.data(), grads.data());
      }
    }

    // A second optimizer picks up the first one's state, as a resumed run
    // does from a checkpoint.
    auto second = gradc::makeOptimizer(model, settings);
    second->restore(first->slots(), first->steps());
    for (size_t step = half; step < steps.size(); ++step) {
      const std::vector<float> grads = flat(steps[step], 3.0f);
      second->setLearningRate(item["lrs"][step].get<double>());
      second->step(split_params.data(), grads.data());
    }
    CHECK(split_params == straight_params);
    CHECK(second->steps() == straight->steps());
    for (size_t slot = 0; slot < straight->slots().size(); ++slot)
      CHECK(second->slots()[slot].values == straight->slots()[slot].values);
  }
}

TEST_CASE("optimizers keep the slots their checkpoints name", "[optimizer]") {
  const gradc_model model = makeModel();
  gradc::OptimizerSettings settings;
  CHECK(gradc::makeOptimizer(model, settings)->slotNames().empty());
  settings.momentum = 0.9;
  CHECK(gradc::makeOptimizer(model, settings)->slotNames() ==
        std::vector<std::string>{"momentum_buffer"});
  for (auto kind : {gradc::OptimizerKind::Adam, gradc::OptimizerKind::AdamW}) {
    settings.kind = kind;
    auto optimizer = gradc::makeOptimizer(model, settings);
    CHECK(optimizer->slotNames() ==
          std::vector<std::string>{"exp_avg", "exp_avg_sq"});
    CHECK_FALSE(optimizer->hasState());
  }
}

TEST_CASE("a checkpoint keeps the optimizer's slots and steps", "[optimizer]") {
  const gradc_model model = makeModel();
  TempDir dir;
  const std::string path = dir.file("run.safetensors");
  gradc::OptimizerSettings settings;
  settings.kind = gradc::OptimizerKind::Adam;
  const nlohmann::json &item = trainingReferences()["optimizers"][0];
  std::vector<float> params = flat(item["params"], 5.0f);

  auto saved = gradc::makeOptimizer(model, settings);
  for (int step = 0; step < 2; ++step) {
    const std::vector<float> grads = flat(item["grads"][step], 3.0f);
    saved->step(params.data(), grads.data());
  }
  gradc::TrainingPosition position;
  position.step = 2;
  gradc::saveCheckpoint(path, model, params.data(), *saved, position);

  auto loaded = gradc::makeOptimizer(model, settings);
  std::vector<float> restored(kSize);
  gradc::loadForResume(path, model, restored.data(), *loaded);
  CHECK(restored == params);
  CHECK(loaded->steps() == 2);
  REQUIRE(loaded->slots().size() == 2);
  for (size_t slot = 0; slot < 2; ++slot) {
    // The buffer's place holds no state and is not saved.
    std::vector<float> expected = saved->slots()[slot].values;
    std::fill_n(expected.begin() + kBufferOffset, 2, 0.0f);
    CHECK(loaded->slots()[slot].values == expected);
  }

  settings.kind = gradc::OptimizerKind::Sgd;
  auto sgd = gradc::makeOptimizer(model, settings);
  CHECK_THROWS_WITH(gradc::loadForResume(path, model, restored.data(), *sgd),
                    Catch::Contains("was saved by a run that trained with "
                                    "adam, but this model trains with sgd"));

  // The same parameters under another model's name: --load, not --resume.
  gradc_model other = model;
  other.name = "another_model";
  settings.kind = gradc::OptimizerKind::Adam;
  auto adam = gradc::makeOptimizer(other, settings);
  CHECK_THROWS_WITH(
      gradc::loadForResume(path, other, restored.data(), *adam),
      Catch::Contains(std::string("was saved by a run of the model '") +
                      model.name +
                      "', but this trainer is for "
                      "'another_model'"));
  gradc::loadParameters(path, other, restored.data());
  CHECK(restored == params);
}

TEST_CASE("a checkpoint with a non-finite parameter is refused",
          "[optimizer]") {
  const gradc_model model = makeModel();
  TempDir dir;
  const std::string path = dir.file("broken.safetensors");
  gradc::OptimizerSettings settings;
  auto sgd = gradc::makeOptimizer(model, settings);
  std::vector<float> params(kSize, 1.0f);
  params[15] = std::numeric_limits<float>::quiet_NaN(); // a.bias, element 1
  gradc::saveCheckpoint(path, model, params.data(), *sgd,
                        gradc::TrainingPosition{});

  std::vector<float> loaded(kSize);
  CHECK_THROWS_WITH(gradc::loadParameters(path, model, loaded.data()),
                    Catch::Contains("gives 'a.bias' the value nan at element "
                                    "1"));
  CHECK_THROWS_WITH(
      gradc::loadForResume(path, model, loaded.data(), *sgd),
      Catch::Contains("gives 'a.bias' the value nan at element 1"));
}

TEST_CASE("a checkpoint saved before the first step leaves adam fresh",
          "[optimizer]") {
  const gradc_model model = makeModel();
  TempDir dir;
  const std::string path = dir.file("start.safetensors");
  gradc::OptimizerSettings settings;
  settings.kind = gradc::OptimizerKind::AdamW;
  std::vector<float> params(kSize, 1.0f);
  auto fresh = gradc::makeOptimizer(model, settings);
  gradc::saveCheckpoint(path, model, params.data(), *fresh, {});

  auto loaded = gradc::makeOptimizer(model, settings);
  gradc::loadForResume(path, model, params.data(), *loaded);
  CHECK(loaded->steps() == 0);
  CHECK_FALSE(loaded->hasState());
}
