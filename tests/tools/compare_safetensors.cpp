// Compares the tensors of two safetensors files, for golden tests.
// usage: compare_safetensors ACTUAL EXPECTED TOLERANCE
// Every tensor of EXPECTED must be in ACTUAL with the same shape, and its
// relative error, max |actual - expected| / max |expected| (the largest
// difference against the tensor's scale, so that elements near zero are
// not judged on their own), must be at most TOLERANCE. A tensor whose
// values are all under 1e-4 is measured against 1e-4 instead: a gradient
// that is zero in exact arithmetic (a bias before BatchNorm) comes out of
// float arithmetic as rounding noise of about 1e-9, whose ratio to itself
// means nothing. Prints one line per tensor with its error; exits 1 when
// any check fails.
#include "tensor_io.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr,
                 "usage: compare_safetensors ACTUAL EXPECTED TOLERANCE\n");
    return 2;
  }

  try {
    gradc::SafeTensors actual = gradc::readSafeTensors(argv[1]);
    gradc::SafeTensors expected = gradc::readSafeTensors(argv[2]);
    double tolerance = std::stod(argv[3]);

    bool ok = true;
    for (const auto &[name, want] : expected.tensors) {
      auto found = actual.tensors.find(name);
      if (found == actual.tensors.end()) {
        std::printf("%-32s missing\n", name.c_str());
        ok = false;
        continue;
      }
      const gradc::HostTensor &got = found->second;
      if (got.shape != want.shape) {
        std::printf("%-32s has the wrong shape\n", name.c_str());
        ok = false;
        continue;
      }

      double scale = 1e-4, difference = 0;
      for (size_t i = 0; i < want.data.size(); ++i) {
        scale = std::max(scale, std::abs(double(want.data[i])));
        double d = std::abs(double(got.data[i]) - want.data[i]);
        difference = std::isnan(d) ? INFINITY : std::max(difference, d);
      }
      double error = difference / scale;
      bool pass = error <= tolerance;
      std::printf("%-32s relative error %.3g%s\n", name.c_str(), error,
                  pass ? "" : "  FAIL");
      ok = ok && pass;
    }
    return ok ? 0 : 1;
  } catch (const std::exception &error) {
    std::fprintf(stderr, "compare_safetensors: %s\n", error.what());
    return 2;
  }
}
