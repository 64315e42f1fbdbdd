//===- PlotCommand.cpp - The `gradc plot` subcommand
//-----------------------===//
//
// Parses `gradc plot GRADS.csv -o FILE.svg [options]`, reads the log and
// writes the picture; errors end in the same exit statuses as compiling.
//
//===----------------------------------------------------------------------===//
#include "driver/PlotCommand.h"

#include "frontend/Diagnostics.h"
#include "plot/GradPlot.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>

namespace gradc {

int runPlotCommand(int argc, char **argv) {
  CLI::App app{"gradc plot: draws a gradient-norm log (--grad-log) as SVG",
               "gradc plot"};
  std::string input;
  std::string output;
  PlotOptions options;
  app.add_option("grads", input, "the gradient-norm CSV from --grad-log")
      ->required();
  app.add_option("-o", output, "the SVG file to write ('-' is stdout)")
      ->required();
  app.add_flag("--biases", options.includeBiases,
               "also draw the biases (weights only by default)");
  app.add_option("--steps", options.steps,
                 "steps of the depth panel, e.g. 1,100,last "
                 "(default first,middle,last)");
  app.add_option("--vanishing-below", options.vanishingBelow,
                 "dashed line for vanishing gradients (default 1e-6)");
  app.add_option("--exploding-above", options.explodingAbove,
                 "dashed line for exploding gradients (default 1e3)");
  app.add_option("--title", options.title,
                 "title (default: the log's file name)");

  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::Success &success) {
    return app.exit(success);
  } catch (const CLI::ParseError &error) {
    std::cerr << "gradc: error: " << error.what() << "\n"
              << "run 'gradc plot --help' for the options\n";
    return 1;
  }
  for (double threshold : {options.vanishingBelow, options.explodingAbove})
    if (!std::isfinite(threshold) || threshold <= 0) {
      std::cerr << "gradc: error: --vanishing-below and --exploding-above "
                   "take positive finite numbers\n";
      return 1;
    }

  try {
    GradLog log = readGradLog(input);
    std::string svg = renderGradPlot(log, options);
    if (output == "-") {
      std::cout << svg << std::flush;
      return std::cout.good() ? 0 : 1;
    }
    std::ofstream out(output, std::ios::binary);
    if (out)
      out << svg;
    if (!out.good()) {
      std::cerr << "gradc: error: cannot write '" << output
                << "': " << std::strerror(errno) << "\n";
      return 1;
    }
    return 0;
  } catch (const UserError &error) {
    printUserError(std::cerr, error);
    return 1;
  } catch (const std::exception &error) {
    std::cerr << "gradc: internal error while plotting " << input << ": "
              << error.what() << "\n";
    return 2;
  }
}

} // namespace gradc
