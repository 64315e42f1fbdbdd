// Writes one random batch for a trainer's `step` command, shaped from what
// `trainer info` says about the model.
// usage: make_step_batch DIR N INPUT_SHAPE classes C
//        make_step_batch DIR N INPUT_SHAPE targets TARGET_SHAPE
// Shapes are comma-separated ("1,28,28"). Writes DIR/x.npy (float32
// [N, ...] uniform in [0, 1)) and DIR/y.npy: int64 class ids below C, or
// float32 targets [N, ...] uniform in [0, 1). The draws are seeded, so the
// same arguments give the same bytes.
#include "npy_writer.h"

#include <cstdint>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

// "1,28,28" as its element count and "(N, 1, 28, 28)".
bool parseShape(const std::string &text, int64_t batch, int64_t &elements,
                std::string &tuple) {
  std::stringstream in(text);
  std::string part;
  elements = 1;
  tuple = "(" + std::to_string(batch);
  while (std::getline(in, part, ',')) {
    long long dim = std::atoll(part.c_str());
    if (dim <= 0 || dim > (1 << 20))
      return false;
    elements *= dim;
    tuple += ", " + std::to_string(dim);
  }
  tuple += ")";
  return elements > 0 && elements <= (1 << 24);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: make_step_batch DIR N INPUT_SHAPE "
                         "classes C | targets TARGET_SHAPE\n");
    return 2;
  }
  std::string dir = argv[1], kind = argv[4];
  int64_t batch = std::atoll(argv[2]);
  int64_t inputs = 0;
  std::string inputTuple;
  if (batch <= 0 || batch > 4096 ||
      !parseShape(argv[3], batch, inputs, inputTuple)) {
    std::fprintf(stderr, "make_step_batch: bad batch or input shape\n");
    return 2;
  }

  std::mt19937 rng(12345);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<float> x(batch * inputs);
  for (float &value : x)
    value = uniform(rng);
  bool written = writeNpy(dir + "/x.npy", "<f4", inputTuple, x.data(),
                          x.size() * sizeof(float));

  if (kind == "classes") {
    int64_t classes = std::atoll(argv[5]);
    if (classes <= 0) {
      std::fprintf(stderr, "make_step_batch: bad class count\n");
      return 2;
    }
    std::uniform_int_distribution<int64_t> classOf(0, classes - 1);
    std::vector<int64_t> y(batch);
    for (int64_t &label : y)
      label = classOf(rng);
    written = written &&
              writeNpy(dir + "/y.npy", "<i8", "(" + std::to_string(batch) +
                                                  ",)",
                       y.data(), y.size() * sizeof(int64_t));
  } else {
    int64_t targets = 0;
    std::string targetTuple;
    if (!parseShape(argv[5], batch, targets, targetTuple)) {
      std::fprintf(stderr, "make_step_batch: bad target shape\n");
      return 2;
    }
    std::vector<float> y(batch * targets);
    for (float &value : y)
      value = uniform(rng);
    written = written && writeNpy(dir + "/y.npy", "<f4", targetTuple,
                                  y.data(), y.size() * sizeof(float));
  }
  if (!written) {
    std::fprintf(stderr, "make_step_batch: cannot write to %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
