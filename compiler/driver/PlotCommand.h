//===- PlotCommand.h - The `gradc plot` subcommand -------------*- C++ -*-===//
//
// Kept apart from main.cpp so that the model compiler's options and the
// plot's options do not share one parser.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_DRIVER_PLOTCOMMAND_H
#define GRADC_DRIVER_PLOTCOMMAND_H

namespace gradc {

// argv[0] is the program and argv[1] is "plot". Returns the exit status:
// 0 drawn, 1 a user error, 2 an internal error.
int runPlotCommand(int argc, char **argv);

} // namespace gradc

#endif // GRADC_DRIVER_PLOTCOMMAND_H
