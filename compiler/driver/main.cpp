//===- main.cpp - The gradc command line ----------------------------------===//
//
// Reads the command line, runs the pipeline in the order listed in
// compileModel(), and maps the two error channels onto exit statuses:
// 1 for mistakes in the user's input, 2 for bugs in gradc.
//
//===----------------------------------------------------------------------===//
#include "autodiff/Autodiff.h"
#include "codegen/Toolchain.h"
#include "codegen/cpp/CppEmitter.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"
#include "passes/MemoryPlan.h"
#include "passes/SizeLimits.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

using namespace gradc;

namespace {

struct Options {
  std::string model;
  std::string output;
  std::string backend = "cpp";
  std::string emit;
  std::string target = "native";
  int optLevel = 2;
  bool verbose = false;
  bool report = false;
  std::vector<std::string> passSwitches;
};

// Prints how long each phase took, with -v.
class PhaseTimer {
public:
  explicit PhaseTimer(bool enabled) : enabled(enabled) {}

  void done(const char *phase) {
    auto now = std::chrono::steady_clock::now();
    if (enabled)
      std::cerr
          << "gradc: " << phase << ": "
          << std::chrono::duration<double, std::milli>(now - start).count()
          << " ms\n";
    start = now;
  }

private:
  bool enabled;
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
};

void writeOutput(const std::string &path, const std::string &text) {
  if (path == "-") {
    std::cout << text;
    return;
  }
  // Opening a FIFO would wait for a reader; a device is not an output.
  std::error_code error;
  if (std::filesystem::exists(path, error) &&
      !std::filesystem::is_regular_file(path, error))
    throw UserError(SourceLoc{path}, "the output is not a regular file");
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out)
    throw UserError(SourceLoc{path}, "cannot write the output file");
}

int compileModel(const Options &options) {
  SourceLoc commandLine{"gradc"};
  if (options.report)
    userError(commandLine, "--report is not supported yet");
  if (!options.passSwitches.empty())
    userError(commandLine, "the " + options.passSwitches.front() +
                               " pass switch is not supported yet");
  if (options.backend != "cpp")
    userError(commandLine,
              "the '" + options.backend + "' backend is not supported yet",
              "use --backend cpp");
  if (!options.emit.empty() && options.emit != "graph" && options.emit != "cpp")
    userError(commandLine, "--emit " + options.emit + " is not supported yet",
              "use --emit graph or --emit cpp");

  PhaseTimer timer(options.verbose);

  // The pipeline, in order: parse and check the model file, build the
  // forward graph, differentiate it, plan memory, generate code, build.
  ModelSpec spec = parseModelFile(options.model);
  timer.done("parse");

  Graph graph = buildForwardGraph(spec);
  timer.done("build graph");

  differentiate(graph);
  timer.done("autodiff");

  MemoryPlan plan = planMemory(graph);
  checkSizeLimits(spec, graph, plan);
  timer.done("memory plan");

  if (options.emit == "graph") {
    std::ostringstream text;
    printGraph(graph, text);
    writeOutput(options.output.empty() ? "-" : options.output, text.str());
    return 0;
  }

  EmitOptions emitOptions;
  emitOptions.target = options.target;
  std::string source = emitCpp(spec, graph, plan, emitOptions);
  timer.done("codegen");
  if (options.emit == "cpp") {
    writeOutput(options.output.empty() ? "-" : options.output, source);
    return 0;
  }

  std::string output = options.output;
  if (output.empty())
    output = std::filesystem::path(options.model).stem().string();
  std::error_code error;
  if (std::filesystem::equivalent(output, options.model, error))
    userError(commandLine, "the trainer would overwrite the model file '" +
                               options.model + "'",
              "name the trainer with -o");
  if (output == "-")
    userError(commandLine, "a trainer cannot be written to stdout",
              "name the output file with -o");
  BuildOptions build;
  build.optLevel = options.optLevel;
  build.target = options.target;
  build.verbose = options.verbose;
  buildTrainer(source, output, build);
  timer.done("c++ compile and link");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"gradc: compiles a neural network described in YAML into a "
               "standalone trainer"};
  app.set_version_flag("--version", "gradc 0.1.0");

  Options options;
  app.add_option("model", options.model, "the model file (YAML)")->required();
  app.add_option("-o", options.output,
                 "output: the trainer, or the --emit text ('-' is stdout)");
  app.add_option("--backend", options.backend,
                 "code generator (only cpp so far)")
      ->check(CLI::IsMember({"cpp", "llvm"}));
  app.add_option("--emit", options.emit,
                 "write an intermediate form (graph or cpp so far)")
      ->check(CLI::IsMember({"graph", "dot", "cpp", "llvm", "obj"}));
  app.add_option("--target", options.target, "instruction set")
      ->check(CLI::IsMember({"native", "generic", "avx2", "avx512"}));
  app.add_option("-O", options.optLevel, "optimization level, 0 to 3")
      ->check(CLI::Range(0, 3));
  app.add_flag("-v", options.verbose, "report what each phase does");
  app.add_flag("--report", options.report,
               "static gradient-flow analysis (not supported yet)");

  // The pass switches of the contract; they are recognised so that their
  // use gets a clear message.
  for (const char *name :
       {"--batchnorm", "--no-batchnorm", "--no-residual", "--no-clip"})
    app.add_flag_callback(
        name, [&options, name] { options.passSwitches.push_back(name); },
        "mitigation pass switch (not supported yet)");
  app.add_option_function<std::string>(
         "--residual",
         [&options](const std::string &) {
           options.passSwitches.push_back("--residual");
         },
         "mitigation pass switch (not supported yet)")
      ->expected(0, 1);
  for (const char *name : {"--clip-norm", "--clip-value"})
    app.add_option_function<double>(
        name,
        [&options, name](double) { options.passSwitches.push_back(name); },
        "mitigation pass switch (not supported yet)");

  if (argc > 1 && std::string(argv[1]) == "plot") {
    std::cerr << "gradc: error: 'gradc plot' is not supported yet\n";
    return 1;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success &success) {
    return app.exit(success);
  } catch (const CLI::ParseError &error) {
    std::cerr << "gradc: error: " << error.what() << "\n"
              << "run 'gradc --help' for the options\n";
    return 1;
  }

  try {
    return compileModel(options);
  } catch (const UserError &error) {
    printUserError(std::cerr, error);
    return 1;
  } catch (const InternalError &error) {
    std::cerr << "gradc: internal error while compiling " << options.model
              << ": " << error.what() << "\n";
    return 2;
  } catch (const std::exception &error) {
    std::cerr << "gradc: internal error while compiling " << options.model
              << ": " << error.what() << "\n";
    return 2;
  }
}
