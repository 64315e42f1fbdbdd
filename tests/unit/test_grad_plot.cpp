// Tests of `gradc plot`: the structure of the SVG drawn from a small
// committed gradient log, and the diagnostics for logs that are wrong.
#include "frontend/Diagnostics.h"
#include "plot/GradPlot.h"
#include "plot/Svg.h"

#include "text_checks.h"

#include <catch2/catch.hpp>

#include <string>

using namespace gradc;

namespace {

const char *const kHeader = "step,param,grad_norm,weight_norm,flag\n";

// Checks that parsing `text` stops with a user error at line:column whose
// message contains `message`.
void expectLogError(const std::string &text, int line, int column,
                    const std::string &message) {
  try {
    parseGradLog(text, "grads.csv");
  } catch (const UserError &error) {
    CHECK_THAT(error.what(), Catch::Matchers::Contains(message));
    CHECK(error.loc.file == "grads.csv");
    CHECK(error.loc.line == line);
    CHECK(error.loc.column == column);
    return;
  }
  FAIL("no error; expected: " << message);
}

} // namespace

TEST_CASE("plot draws one line per weight with a legend entry each", "[plot]") {
  GradLog log = readGradLog(GRADC_PLOT_TEST_CSV);
  std::string svg = renderGradPlot(log, PlotOptions{});
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(countOccurrences(svg, "<svg ") == 1);
  CHECK(countOccurrences(svg, "</svg>") == 1);
  // Three weights in panel (a); biases are left out by default.
  CHECK(countOccurrences(svg, "<path class=\"series\"") == 3);
  CHECK(countOccurrences(svg, "<title>fc1.weight</title>") == 1);
  CHECK(countOccurrences(svg, "<title>out.weight</title>") == 1);
  CHECK(countOccurrences(svg, "bias") == 0);
  CHECK(countOccurrences(svg, "__global__") == 0);
  CHECK(countOccurrences(svg, ">0  fc1.weight</text>") == 1);
  CHECK(countOccurrences(svg, ">1  fc2.weight</text>") == 1);
  CHECK(countOccurrences(svg, ">2  out.weight</text>") == 1);
  // Default steps of panel (b): the first, a middle and the last.
  CHECK(countOccurrences(svg, "<path class=\"depth\"") == 3);
  CHECK(countOccurrences(svg, ">step 10</text>") == 1);
  CHECK(countOccurrences(svg, ">step 20</text>") == 1);
  CHECK(countOccurrences(svg, ">step 40</text>") == 1);
  CHECK(countOccurrences(svg, "plot_small_grads.csv") == 1);
}

TEST_CASE("plot labels the log axis at powers of ten", "[plot]") {
  std::string svg =
      renderGradPlot(readGradLog(GRADC_PLOT_TEST_CSV), PlotOptions{});
  // Norms from 1.2e-7 to 0.42 and thresholds 1e-6 and 1e3: decades -8 to
  // 4 (margins under and over them). Twelve decades are labelled every
  // second one, in both panels.
  auto label = [&](const std::string &exponent) {
    return countOccurrences(svg, "font-size=\"9\">" + exponent + "</tspan>");
  };
  for (const char *exponent : {"\u22128", "\u22126", "\u22122", "0", "2", "4"})
    CHECK(label(exponent) == 2);
  for (const char *exponent : {"\u221210", "\u22127", "\u22121", "3", "6"})
    CHECK(label(exponent) == 0);
  CHECK(countOccurrences(svg, "gradient L2 norm (log scale)") == 2);
  CHECK(countOccurrences(svg, "training step (optimizer updates)") == 1);
}

TEST_CASE("plot marks zero and NaN norms and draws the thresholds", "[plot]") {
  std::string svg =
      renderGradPlot(readGradLog(GRADC_PLOT_TEST_CSV), PlotOptions{});
  // fc1.weight is 0 and out.weight NaN at step 30: two crosses in (a);
  // step 30 is not drawn in (b). Each legend has one more.
  CHECK(countOccurrences(svg, "class=\"bad-norm\"") == 4);
  CHECK(countOccurrences(svg, "nan, inf or 0 (2 in log)") == 2);
  CHECK(countOccurrences(svg, "vanishing below 1e-06") == 2);
  CHECK(countOccurrences(svg, "exploding above 1000") == 2);
  CHECK(countOccurrences(svg, "stroke-dasharray=\"8,5\"") == 4);
}

TEST_CASE("plot draws biases on request and the chosen steps", "[plot]") {
  PlotOptions options;
  options.includeBiases = true;
  options.steps = "30,last,first,24";
  std::string svg = renderGradPlot(readGradLog(GRADC_PLOT_TEST_CSV), options);
  CHECK(countOccurrences(svg, "<path class=\"series\"") == 6);
  CHECK(countOccurrences(svg, "<title>fc2.bias</title>") == 1);
  CHECK(countOccurrences(svg, ">step 30</text>") == 1);
  CHECK(countOccurrences(svg, ">step 40</text>") == 1);
  CHECK(countOccurrences(svg, ">step 10</text>") == 1);
  CHECK(countOccurrences(svg, ">step 20 (nearest logged to 24)</text>") == 1);
  CHECK(countOccurrences(svg, "<path class=\"depth\"") == 4);

  options.steps = "1,soon";
  try {
    renderGradPlot(readGradLog(GRADC_PLOT_TEST_CSV), options);
    FAIL("no error for --steps 1,soon");
  } catch (const UserError &error) {
    CHECK_THAT(error.what(), Catch::Matchers::Contains("'soon' is not"));
  }
}

TEST_CASE("plot escapes names from the log", "[plot]") {
  std::string text = std::string(kHeader) + "5,<b>&\"x'.weight,0.1,1,ok\n"
                                            "5,__global__,0.1,1,ok\n";
  PlotOptions options;
  options.title = "a<b>&c";
  std::string svg = renderGradPlot(parseGradLog(text, "g.csv"), options);
  CHECK(countOccurrences(svg, "&lt;b&gt;&amp;&quot;x&apos;.weight") == 2);
  CHECK(countOccurrences(svg, "<b>") == 0);
  CHECK(countOccurrences(svg, "a&lt;b&gt;&amp;c") == 1);
  CHECK(xmlEscape("a\x01z") == "a?z");
  CHECK(xmlEscape("\xc3\xa9\xff\xc3") == "\xc3\xa9??");
}

TEST_CASE("plot rejects logs that are empty or have the wrong header",
          "[plot]") {
  expectLogError("", 0, 0, "the gradient log is empty");
  expectLogError("step,param,grad,weight_norm,flag\n1,a,1,1,ok\n", 1, 16,
                 "expected the header");
  expectLogError(kHeader, 0, 0, "has a header but no rows");
  expectLogError(std::string(kHeader) + "1,__global__,1,1,ok\n", 0, 0,
                 "only __global__ rows");
}

TEST_CASE("plot rejects rows with wrong fields", "[plot]") {
  std::string h = kHeader;
  expectLogError(h + "1,a,1,1,ok\nx,a,1,1,ok\n", 3, 1, "step 'x'");
  expectLogError(h + "-1,a,1,1,ok\n", 2, 1, "is not a whole number");
  expectLogError(h + "1,a,0.1x,1,ok\n", 2, 5, "grad_norm '0.1x'");
  expectLogError(h + "1,a,,1,ok\n", 2, 5, "empty grad_norm");
  expectLogError(h + "1,a,1,abc,ok\n", 2, 7, "weight_norm 'abc'");
  // Control bytes are quoted escaped; a NUL would end the message.
  expectLogError(h + std::string("1,a,1,a\0\x1b,ok\n", 13), 2, 7,
                 "weight_norm 'a\\x00\\x1b'");
  expectLogError(h + "1,a,-2,1,ok\n", 2, 5, "is negative");
  expectLogError(h + "1,a,1,1\n", 2, 8, "found 4");
  expectLogError(h + "1,a,1,1,ok,extra\n", 2, 11, "found 6");
  expectLogError(h + "1,,1,1,ok\n", 2, 3, "empty param");
  expectLogError(h + "99999999999999999999,a,1,1,ok\n", 2, 1, "step");
}

TEST_CASE("plot reads CRLF logs, inf and nan, and names a missing file",
          "[plot]") {
  GradLog log = parseGradLog(
      "step,param,grad_norm,weight_norm,flag\r\n3,a.weight,inf,nan,ok\r\n",
      "g.csv");
  REQUIRE(log.rows.size() == 1);
  CHECK(log.rows[0].step == 3);
  CHECK(log.rows[0].flag == "ok");
  try {
    readGradLog("/nonexistent/grads.csv");
    FAIL("no error for a missing file");
  } catch (const UserError &error) {
    CHECK(error.loc.file == "/nonexistent/grads.csv");
    CHECK(error.loc.line == 0);
    CHECK_THAT(error.what(), Catch::Matchers::Contains("cannot read"));
  }
  try {
    readGradLog(".");
    FAIL("no error for a folder");
  } catch (const UserError &error) {
    CHECK_THAT(error.what(), Catch::Matchers::Contains("is a folder"));
  }
}
