//===- GradPlot.h - `gradc plot`: a gradient-norm log as SVG ---*- C++ -*-===//
//
// Reads the trainer's gradient-norm CSV (spec section 5) and draws two
// panels: each parameter's gradient norm over the training steps, and the
// norm against depth at a few chosen steps, both on log axes. Malformed
// logs are user errors with a file:line:col location.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_PLOT_GRADPLOT_H
#define GRADC_PLOT_GRADPLOT_H

#include <string>
#include <vector>

namespace gradc {

struct GradLogRow {
  long long step = 0;
  std::string param;
  double gradNorm = 0;
  double weightNorm = 0;
  std::string flag;
  int line = 0;
};

struct GradLog {
  std::string file;
  std::vector<GradLogRow> rows;
};

// Parses the CSV text; `file` names it in diagnostics.
GradLog parseGradLog(const std::string &text, const std::string &file);
// Reads and parses a file; a file that cannot be read is a user error.
GradLog readGradLog(const std::string &path);

struct PlotOptions {
  bool includeBiases = false;
  // Comma-separated steps: numbers, `first`, `middle`, `last`; empty means
  // the first, a middle and the last logged step.
  std::string steps;
  double vanishingBelow = 1e-6;
  double explodingAbove = 1e3;
  // Shown in the title; the log's file name when empty.
  std::string title;
};

// Returns the SVG document.
std::string renderGradPlot(const GradLog &log, const PlotOptions &options);

} // namespace gradc

#endif // GRADC_PLOT_GRADPLOT_H
