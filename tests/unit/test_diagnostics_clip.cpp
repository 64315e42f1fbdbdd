// Tests of `passes: {clip: ...}` and `skip_nonfinite`: valid settings
// reach the ModelSpec, and each mistake (no mode, both modes, an unknown
// key, a threshold that is zero, negative, infinite or not a number, a
// clip that is not a mapping) ends in a UserError at the line and column
// where the user would fix it.
#include "frontend/ClipSection.h"

#include "diagnostic_checks.h"

#include <string>

namespace {

// A valid model whose seventh line is the passes section.
std::string withPasses(const std::string &passes) {
  return "model: m\n"
         "input: [4]\n"
         "layers:\n"
         "  - {op: dense, units: 3}\n"
         "loss: softmax_cross_entropy\n"
         "optimizer: {type: sgd, lr: 0.1}\n"
         "passes: " +
         passes + "\n";
}

// The 1-based column of `token` in line 7, where the passes are.
int columnOf(const std::string &text, const std::string &token) {
  const size_t start = text.find("passes:");
  const size_t at = text.find(token, start);
  REQUIRE(at != std::string::npos);
  return static_cast<int>(at - start) + 1;
}

void expectClipError(const std::string &passes, const std::string &token,
                     const std::string &message) {
  const std::string text = withPasses(passes);
  expectError(text, 7, columnOf(text, token), message);
}

gradc::ModelSpec parse(const std::string &passes) {
  return gradc::parseModel("model.yaml", withPasses(passes));
}

} // namespace

TEST_CASE("clip settings reach the model spec", "[diagnostics]") {
  gradc::ModelSpec norm = parse("{clip: {global_norm: 5.0}}");
  CHECK(norm.passes.clip.kind == gradc::ClipKind::GlobalNorm);
  CHECK(norm.passes.clip.threshold == 5.0);
  CHECK_FALSE(norm.passes.skipNonfinite);

  gradc::ModelSpec value = parse("{clip: {value: 0.5}, skip_nonfinite: true}");
  CHECK(value.passes.clip.kind == gradc::ClipKind::Value);
  CHECK(value.passes.clip.threshold == 0.5);
  CHECK(value.passes.skipNonfinite);

  CHECK(parse("{clip: false}").passes.clip.kind == gradc::ClipKind::None);
  CHECK(parse("{skip_nonfinite: false}").passes.clip.kind ==
        gradc::ClipKind::None);
}

TEST_CASE("the model table names the clip setting", "[diagnostics]") {
  CHECK(gradc::describeClip(parse("{clip: {global_norm: 1}}").passes.clip) ==
        "clip_norm=1");
  CHECK(gradc::describeClip(parse("{clip: {value: 0.25}}").passes.clip) ==
        "clip_value=0.25");
  CHECK(gradc::describeClip(gradc::ClipSpec{}).empty());
}

TEST_CASE("a clip without a mode or with both", "[diagnostics]") {
  expectClipError("{clip: {}}", "{}", "'clip' needs 'global_norm' or 'value'");
  expectClipError("{clip: {global_norm: 1, value: 2}}", "{global_norm",
                  "'clip' takes one of 'global_norm' and 'value', not both");
}

TEST_CASE("an unknown key in clip", "[diagnostics]") {
  expectClipError("{clip: {max_norm: 1}}", "max_norm",
                  "unknown key 'max_norm' in passes.clip");
}

TEST_CASE("a clip threshold that is not positive", "[diagnostics]") {
  expectClipError("{clip: {global_norm: 0}}", "0}",
                  "'global_norm' must be greater than 0");
  expectClipError("{clip: {value: -0.5}}", "-0.5",
                  "'value' is -0.5, but it must be between 0 and");
}

TEST_CASE("a clip threshold that is not a finite number", "[diagnostics]") {
  expectClipError("{clip: {global_norm: .inf}}", ".inf",
                  "'global_norm' must be a finite number, not '.inf'");
  expectClipError("{clip: {value: big}}", "big",
                  "'value' must be a finite number, not 'big'");
  expectClipError("{clip: {global_norm: [1]}}", "[1]", "'global_norm'");
}

TEST_CASE("a clip that is not a mapping", "[diagnostics]") {
  expectClipError("{clip: 1.0}", "1.0", "'clip' must be a mapping");
  expectClipError("{clip: true}", "true", "'clip' must be a mapping");
}

TEST_CASE("a skip_nonfinite that is not a boolean", "[diagnostics]") {
  expectClipError("{skip_nonfinite: 2}", "2", "skip_nonfinite");
}

TEST_CASE("a command-line clip threshold out of range", "[diagnostics]") {
  CHECK(gradc::checkClipThreshold("--clip-norm", 2.5) == 2.5);
  CHECK_THROWS_AS(gradc::checkClipThreshold("--clip-norm", 0),
                  gradc::UserError);
  CHECK_THROWS_WITH(gradc::checkClipThreshold("--clip-value", -1),
                    Catch::Matchers::Contains("--clip-value must be a "
                                              "finite number greater than 0"));
}
