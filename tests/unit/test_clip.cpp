// Tests of the runtime's gradient clipping against PyTorch's
// clip_grad_norm_ and clip_grad_value_ (the values of clip_references.h,
// from make_clip_references.py), on a two-parameter model table with a
// buffer between them that clipping must leave alone.
#include "clip.h"

#include <catch2/catch.hpp>

#include "clip_references.h"

#include <cmath>
#include <vector>

namespace {

// Gradients of shapes 2x3 and 3 at offsets 0 and 8, with a buffer of two
// elements (offsets 6 and 7) between them.
const gradc_param_info Params[] = {
    {"fc.weight", 2, {2, 3}, 0, 6, 0, 0, 3, 2, 0, 0},
    {"bn.running_mean", 1, {2}, 6, 2, 0, 0, 0, 0, 0, 1},
    {"fc.bias", 1, {3}, 8, 3, 0, 0, 3, 2, 0, 0},
};

gradc_model makeModel() {
  gradc_model model{};
  model.num_params = 3;
  model.params = Params;
  model.param_size = 11;
  return model;
}

// The flat gradient array: the reference's nine values around a buffer
// whose "gradient" slots hold a marker clipping must not touch.
constexpr float Marker = 1000;

std::vector<float> layOut(const std::array<float, 9> &values) {
  std::vector<float> grads(values.begin(), values.begin() + 6);
  grads.push_back(Marker);
  grads.push_back(Marker);
  grads.insert(grads.end(), values.begin() + 6, values.end());
  return grads;
}

std::vector<float> squaredNorms(const std::vector<float> &grads) {
  std::vector<float> sqnorms(3, 0);
  for (int index = 0; index < 3; ++index) {
    double sum = 0;
    for (int64_t i = 0; i < Params[index].size; ++i) {
      const double value = grads[Params[index].offset + i];
      sum += value * value;
    }
    sqnorms[index] = static_cast<float>(sum);
  }
  // The buffer's slot is not a gradient's; a huge value shows it is
  // ignored.
  sqnorms[1] = 1e30f;
  return sqnorms;
}

} // namespace

TEST_CASE("clipping matches PyTorch", "[clip]") {
  const gradc_model model = makeModel();
  for (const ClipReference &reference : clipReferences) {
    INFO(reference.name);
    std::vector<float> grads = layOut(reference.before);
    const std::vector<float> sqnorms = squaredNorms(grads);
    gradc::ClipSettings clip;
    clip.kind = reference.norm ? GRADC_CLIP_GLOBAL_NORM : GRADC_CLIP_VALUE;
    clip.threshold = reference.threshold;

    if (reference.norm)
      CHECK(gradc::globalGradNorm(model, sqnorms.data()) ==
            Approx(reference.total).epsilon(1e-6));
    const bool acted =
        gradc::clipGradients(model, clip, grads.data(), sqnorms.data());

    const std::vector<float> expected = layOut(reference.after);
    bool changed = false;
    for (size_t i = 0; i < grads.size(); ++i) {
      INFO("element " << i);
      CHECK(grads[i] == Approx(expected[i]).epsilon(1e-6).margin(1e-12));
      changed |= expected[i] != layOut(reference.before)[i];
    }
    CHECK(acted == changed);
  }
}

TEST_CASE("clip_grad_norm_'s factor", "[clip]") {
  // max_norm / (total + 1e-6), only when below 1.
  CHECK(gradc::clipNormScale(10, 1) == Approx(1 / (10 + 1e-6)));
  CHECK(gradc::clipNormScale(0.5, 1) == 1);
  CHECK(gradc::clipNormScale(0, 1) == 1);
  // At the threshold the 1e-6 makes the factor just below 1, as PyTorch's.
  CHECK(gradc::clipNormScale(1, 1) < 1);
}

TEST_CASE("no clipping leaves gradients alone", "[clip]") {
  const gradc_model model = makeModel();
  std::vector<float> grads = layOut(clipReferences[0].before);
  const std::vector<float> before = grads;
  const std::vector<float> sqnorms = squaredNorms(grads);
  CHECK_FALSE(gradc::clipGradients(model, gradc::ClipSettings{}, grads.data(),
                                   sqnorms.data()));
  CHECK(grads == before);
}
