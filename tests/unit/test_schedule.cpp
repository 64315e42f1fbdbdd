// The learning-rate schedules against the rates PyTorch's StepLR and
// CosineAnnealingLR gave, epoch by epoch (make_training_references.py).
// The step schedule involves no library function, so its rates must be
// equal to the bit; the cosine one calls cos(), which two C libraries may
// round differently in the last place, so it is allowed 4 units in the
// last place of a double.
#include "schedule.h"

#include "training_references.h"

#include <catch2/catch.hpp>

#include <cmath>

namespace {

gradc::ScheduleSettings settingsOf(const nlohmann::json &item) {
  gradc::ScheduleSettings settings;
  if (item["type"] == "step") {
    settings.kind = gradc::ScheduleKind::Step;
    settings.every = item["every"].get<int64_t>();
    settings.gamma = item["gamma"].get<double>();
  } else {
    settings.kind = gradc::ScheduleKind::Cosine;
  }
  return settings;
}

} // namespace

TEST_CASE("schedules give PyTorch's rate for every epoch", "[schedule]") {
  for (const nlohmann::json &item : trainingReferences()["schedules"]) {
    const gradc::ScheduleSettings settings = settingsOf(item);
    const auto base = item["base"].get<double>();
    const auto epochs = item["epochs"].get<int64_t>();
    const nlohmann::json &expected = item["lrs"];
    INFO(item["type"] << " schedule from " << base << " over " << epochs
                      << " epochs");
    REQUIRE(expected.size() > 1);
    for (size_t epoch = 0; epoch < expected.size(); ++epoch) {
      INFO("epoch " << epoch);
      const double rate = gradc::scheduledLearningRate(
          settings, base, static_cast<int64_t>(epoch), epochs);
      const auto reference = expected[epoch].get<double>();
      if (settings.kind == gradc::ScheduleKind::Step)
        CHECK(rate == reference);
      else
        CHECK(std::abs(rate - reference) <=
              4 * std::abs(reference) * 0x1p-52 + 1e-300);
    }
  }
}

TEST_CASE("without a schedule the rate stays the base rate", "[schedule]") {
  const gradc::ScheduleSettings none;
  for (int64_t epoch : {0, 1, 7, 1000})
    CHECK(gradc::scheduledLearningRate(none, 0.03, epoch, 10) == 0.03);
}

TEST_CASE("a step schedule decays after every 'every' epochs", "[schedule]") {
  gradc::ScheduleSettings step;
  step.kind = gradc::ScheduleKind::Step;
  step.every = 3;
  step.gamma = 0.5;
  CHECK(gradc::scheduledLearningRate(step, 0.8, 2, 10) == 0.8);
  CHECK(gradc::scheduledLearningRate(step, 0.8, 3, 10) == 0.4);
  CHECK(gradc::scheduledLearningRate(step, 0.8, 6, 10) == 0.2);
}

TEST_CASE("a cosine schedule reaches 0 at the last epoch's end", "[schedule]") {
  gradc::ScheduleSettings cosine;
  cosine.kind = gradc::ScheduleKind::Cosine;
  // Halfway through, (1 + cos(pi / 2)) / 2 of the base rate is left.
  CHECK(gradc::scheduledLearningRate(cosine, 0.1, 4, 8) ==
        Approx(0.05).epsilon(1e-12));
  CHECK(std::abs(gradc::scheduledLearningRate(cosine, 0.1, 8, 8)) < 1e-17);
}
