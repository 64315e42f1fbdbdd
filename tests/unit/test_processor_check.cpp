// Tests of the trainer's check that the processor runs the code gradc
// generated for its --target: the extensions each target needs, given a
// processor that has some of them.
#include "errors.h"
#include "processor_check.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>

namespace {

// A processor with exactly the extensions in `extensions`.
auto processorWith(std::set<std::string> extensions) {
  return [extensions](const char *name) { return extensions.count(name) > 0; };
}

} // namespace

TEST_CASE("each target names the extensions a processor lacks", "[processor]") {
  using gradc::missingExtensions;
  const auto zen = processorWith({"avx", "avx2", "fma", "bmi", "bmi2"});
  const auto sandyBridge = processorWith({"avx"});
  const auto none = processorWith({});

  CHECK(missingExtensions("avx2", zen).empty());
  CHECK(missingExtensions("avx512", zen) ==
        "avx512f, avx512cd, avx512bw, avx512dq, avx512vl");
  CHECK(missingExtensions("avx2", sandyBridge) == "avx2, fma, bmi, bmi2");

  // Generic code runs anywhere; native code was built for the machine
  // that compiled it, whose extensions the trainer does not know.
  CHECK(missingExtensions("generic", none).empty());
  CHECK(missingExtensions("native", none).empty());
}

TEST_CASE("the processor check passes for code any processor runs",
          "[processor]") {
  CHECK_NOTHROW(gradc::checkProcessorFor("generic"));
  CHECK_NOTHROW(gradc::checkProcessorFor("native"));

  // AVX-512 code is refused exactly where this processor lacks it, with
  // a message that names the target and the extension.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512cd")) {
    CHECK_NOTHROW(gradc::checkProcessorFor("avx512"));
  } else {
    CHECK_THROWS_WITH(gradc::checkProcessorFor("avx512"),
                      Catch::Contains("built for --target avx512") &&
                          Catch::Contains("avx512"));
  }
}
