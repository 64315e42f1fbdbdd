// Tests of the runtime's check of embedding ids (input_ids.h): a model
// whose first layer is an embedding refuses inputs that are not whole ids
// below its vocabulary, naming the file, the sample and the position, and
// blaming the data section's scale when it changed the values; a model
// without an embedding takes any value.
#include "errors.h"
#include "input_ids.h"

#include <catch2/catch.hpp>

#include <limits>
#include <vector>

using Catch::Matchers::Contains;

namespace {

gradc_model idsModel() {
  gradc_model model{};
  model.input_size = 3;
  model.input_is_ids = 1;
  model.input_vocab = 5;
  return model;
}

// The message of the UserError that `run` throws, or "" when none.
template <typename Run> std::string errorOf(Run run, std::string *hint) {
  try {
    run();
  } catch (const gradc::UserError &error) {
    *hint = error.hint;
    return error.what();
  }
  return "";
}

} // namespace

TEST_CASE("whole ids below the vocabulary pass", "[input_ids]") {
  const gradc_model model = idsModel();
  const std::vector<float> ids = {0, 4, 2, 1, 1, 3};
  CHECK_NOTHROW(gradc::checkInputIds(model, ids, "x.npy", false));
}

TEST_CASE("an id out of range or not whole is refused where it is",
          "[input_ids]") {
  const gradc_model model = idsModel();
  std::string hint;
  for (float bad :
       {5.0f, -1.0f, 2.5f, std::numeric_limits<float>::quiet_NaN()}) {
    const std::vector<float> ids = {0, 1, 2, 3, bad, 4};
    std::string message = errorOf(
        [&] { gradc::checkInputIds(model, ids, "x.npy", false); }, &hint);
    CHECK_THAT(message, Contains("the model's first layer is an embedding of "
                                 "5 ids, but 'x.npy' holds"));
    CHECK_THAT(message, Contains("at sample 1, position 1"));
    CHECK_THAT(hint, Contains("whole numbers from 0 to 4"));
  }
}

TEST_CASE("the hint blames the data section's scale", "[input_ids]") {
  const gradc_model model = idsModel();
  gradc::Dataset data;
  data.count = 1;
  data.sample_size = 3;
  data.inputs = {0, 0.5f, 1};
  gradc::InputTransform transform;
  transform.scale = 0.5;
  std::string hint;
  std::string message = errorOf(
      [&] { gradc::checkDatasetIds(model, data, "train.npy", transform); },
      &hint);
  CHECK_THAT(message,
             Contains("'train.npy' holds 0.5 at sample 0, position 1"));
  CHECK_THAT(hint, Contains("scale and normalize"));
}

TEST_CASE("IDX bytes are checked through their conversion table",
          "[input_ids]") {
  const gradc_model model = idsModel();
  gradc::Dataset data;
  data.count = 2;
  data.sample_size = 3;
  data.raw_inputs = {0, 1, 2, 3, 4, 9};
  for (int value = 0; value < 256; ++value)
    data.byte_values.push_back(static_cast<float>(value));
  std::string hint;
  std::string message = errorOf(
      [&] {
        gradc::checkDatasetIds(model, data, "images.idx",
                               gradc::InputTransform{});
      },
      &hint);
  CHECK_THAT(message, Contains("'images.idx' holds 9 at sample 1, position 2"));
}

TEST_CASE("a model without an embedding takes any value", "[input_ids]") {
  gradc_model model = idsModel();
  model.input_is_ids = 0;
  const std::vector<float> values = {-3.5f, 1e9f, 0.25f};
  CHECK_NOTHROW(gradc::checkInputIds(model, values, "x.npy", false));
}
