//===- main.cpp - The gradc command line ----------------------------------===//
//
// Reads the command line, runs the pipeline in the order listed in
// compileModel(), and maps the two error channels onto exit statuses:
// 1 for mistakes in the user's input, 2 for bugs in gradc.
//
//===----------------------------------------------------------------------===//
#include "analysis/GradientFlow.h"
#include "autodiff/Autodiff.h"
#include "codegen/Toolchain.h"
#include "codegen/cpp/CppEmitter.h"
#include "codegen/llvm/LlvmBackend.h"
#include "driver/PlotCommand.h"
#include "frontend/ClipSection.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"
#include "passes/FuseConvolution.h"
#include "passes/FuseElementwise.h"
#include "passes/InsertBatchNorm.h"
#include "passes/InsertResidual.h"
#include "passes/MemoryPlan.h"
#include "passes/SizeLimits.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

using namespace gradc;

namespace {

struct Options {
  std::string model;
  std::string output;
  std::optional<std::string> backend; // --backend; cpp when not given
  std::string emit;
  std::string target = "native";
  int optLevel = 2;
  bool verbose = false;
  bool report = false;
  std::optional<bool> batchnorm;   // --batchnorm, --no-batchnorm
  std::optional<int64_t> residual; // --residual[=K] (K 2 by default),
                                   // --no-residual (0)
  // The switches given for each, so that contradicting ones are refused.
  std::vector<std::string> batchnormSwitches, residualSwitches;
  // --clip-norm, --clip-value or --no-clip, which override the model
  // file's passes.clip; clipSwitches lists those given, at most one.
  std::optional<ClipSpec> clip;
  std::vector<std::string> clipSwitches;
};

// Prints how long each phase took, with -v.
class PhaseTimer {
public:
  explicit PhaseTimer(bool enabled) : enabled(enabled) {}

  void done(const char *phase) {
    auto now = std::chrono::steady_clock::now();
    if (enabled) {
      double ms = std::chrono::duration<double, std::milli>(now - start)
                      .count();
      char text[32];
      std::snprintf(text, sizeof text, "%.1f ms", ms);
      std::cerr << "gradc: " << phase << ": " << text << "\n";
    }
    start = now;
  }

private:
  bool enabled;
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
};

// K of --residual=K: a positive integer, at most a model's 1000 layers.
int64_t parseRunLength(const std::string &text) {
  try {
    size_t used = 0;
    long value = std::stol(text, &used);
    if (used == text.size() && value >= 1 && value <= 1000)
      return value;
  } catch (const std::exception &) {
  }
  // CLI11 puts the option's name in front.
  throw CLI::ValidationError("K must be an integer from 1 to 1000, not '" +
                             text + "'");
}

// The mitigation passes that rewrite the model, in order: BatchNorm first,
// so that a residual block wraps each layer with its normalization.
// Returns the passes applied, for the trainer's `info`.
std::string runModelPasses(ModelSpec &spec, const Options &options) {
  // A switch on the command line is where the pass was asked for, and
  // where its errors point.
  if (options.batchnorm) {
    spec.passes.batchnorm = *options.batchnorm;
    spec.passes.batchnormLoc = SourceLoc{"gradc"};
  }
  if (options.residual) {
    spec.passes.residual = *options.residual;
    spec.passes.residualLoc = SourceLoc{"gradc"};
  }

  // A pass asked for that finds nothing to rewrite says so: the user
  // expects a different network from the one that gets built.
  auto warnUnchanged = [](const SourceLoc &asked, const std::string &what) {
    std::cerr << asked.str() << ": warning: " << what
              << "; the model is unchanged\n";
  };

  std::string applied;
  if (insertBatchNorm(spec))
    applied = "batchnorm";
  else if (spec.passes.batchnorm)
    warnUnchanged(spec.passes.batchnormLoc,
                  "the batchnorm pass found no dense or conv2d layer before "
                  "the last to normalize");
  if (insertResidual(spec))
    applied += std::string(applied.empty() ? "" : ",") + "residual=" +
               std::to_string(spec.passes.residual);
  else if (spec.passes.residual > 0)
    warnUnchanged(spec.passes.residualLoc,
                  "the residual pass found no run of " +
                      std::to_string(spec.passes.residual) +
                      " shape-preserving dense or conv2d layers to wrap");
  return applied;
}

// Writes an --emit output: to stdout for "-", else whole or not at all,
// through a temporary file beside it that is renamed into place.
void writeOutput(const std::string &path, const std::string &text) {
  if (path == "-") {
    std::cout << text << std::flush;
    if (!std::cout)
      throw UserError(SourceLoc{"gradc"}, "cannot write to stdout");
    return;
  }
  // checkOutputPath() has refused FIFOs, devices and the model file. The
  // temporary is created exclusively, so nothing planted there is
  // followed. Its name is short whatever the output's (a name near the
  // 255-byte limit has no room for a suffix), and it gets the mode a new
  // file would (mkstemp's is 0600).
  const std::filesystem::path target(path);
  std::string pattern =
      (target.parent_path() /
       ("." + target.filename().string().substr(0, 100) + ".gradc-XXXXXX"))
          .string();
  int fd = mkstemp(pattern.data());
  if (fd < 0)
    throw UserError(SourceLoc{path}, "cannot write the output file");
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  size_t written = 0;
  while (written < text.size()) {
    ssize_t now = ::write(fd, text.data() + written, text.size() - written);
    if (now <= 0 && errno != EINTR)
      break;
    written += now > 0 ? static_cast<size_t>(now) : 0;
  }
  bool whole = written == text.size() && ::close(fd) == 0;
  std::error_code error;
  if (whole)
    std::filesystem::rename(pattern, path, error);
  if (!whole || error) {
    std::filesystem::remove(pattern, error);
    throw UserError(SourceLoc{path}, "cannot write the output file");
  }
}

// The output must not be the model file, and a trainer only replaces a
// regular file: never a FIFO, a device or a directory.
void checkOutputPath(const std::string &output, const std::string &model) {
  SourceLoc commandLine{"gradc"};
  std::error_code error;
  if (output != "-" && std::filesystem::equivalent(output, model, error))
    userError(commandLine,
              "the output would overwrite the model file '" + model + "'",
              "name another output with -o");
  if (output != "-" && std::filesystem::exists(output, error) &&
      !std::filesystem::is_regular_file(output, error))
    throw UserError(SourceLoc{output}, "the output is not a regular file");
}

// Writes a text form (the graph, the report) to -o's file, or stdout.
void writeTextOutput(const Options &options, const std::string &text) {
  std::string output = options.output.empty() ? "-" : options.output;
  checkOutputPath(output, options.model);
  writeOutput(output, text);
}

int compileModel(const Options &options) {
  SourceLoc commandLine{"gradc"};
  if (options.report && !options.emit.empty())
    userError(commandLine, "--report and --emit cannot be combined",
              "--report prints the analysis, to -o's file when given");
  for (const auto &[pass, switches] :
       {std::pair{"batchnorm", options.batchnormSwitches},
        std::pair{"residual", options.residualSwitches}})
    if (switches.size() > 1 && switches.front() != switches.back())
      userError(commandLine,
                switches.front() + " and " + switches.back() +
                    " cannot be combined",
                std::string("give --") + pass + " or --no-" + pass);
  if (options.clipSwitches.size() > 1)
    userError(commandLine,
              options.clipSwitches[0] + " and " + options.clipSwitches[1] +
                  " cannot be combined",
              "give one of --clip-norm, --clip-value and --no-clip");
  if (options.clip && options.clip->kind != ClipKind::None)
    checkClipThreshold(options.clip->kind == ClipKind::GlobalNorm
                           ? "--clip-norm"
                           : "--clip-value",
                       options.clip->threshold);

  PhaseTimer timer(options.verbose);

  // The pipeline, in order: parse and check the model file, rewrite the
  // model with the mitigation passes, build the forward graph,
  // differentiate it, plan memory, generate code, build.
  // The graph and the report need no data; a trainer does.
  const bool needsData =
      !options.report && options.emit != "graph" && options.emit != "dot";
  ModelSpec spec = parseModelFile(
      options.model, needsData ? DataFiles::Required : DataFiles::Optional);
  if (options.clip)
    spec.passes.clip = *options.clip;
  timer.done("parse");

  std::string passesApplied = runModelPasses(spec, options);
  timer.done("model passes");

  Graph graph = buildForwardGraph(spec);
  timer.done("build graph");

  // The report reads the forward graph's fans and inits; it builds nothing.
  if (options.report) {
    std::ostringstream text;
    printFlowReport(analyzeGradientFlow(spec, graph), text);
    writeTextOutput(options, text.str());
    return 0;
  }

  differentiate(graph);
  timer.done("autodiff");

  // From -O1 on, a convolution's bias and relu join its kernel, the relu's
  // gradient the pool's, and elementwise chains become single loops;
  // `--emit graph` shows the graph as code generation will see it.
  if (options.optLevel >= 1) {
    fuseConvolution(graph);
    fuseElementwise(graph);
  }
  timer.done("fusion");

  MemoryPlan plan = planMemory(graph);
  checkSizeLimits(spec, graph, plan);
  timer.done("memory plan");

  if (options.emit == "graph" || options.emit == "dot") {
    std::ostringstream text;
    if (options.emit == "graph")
      printGraph(graph, text);
    else
      printGraphDot(graph, text);
    writeTextOutput(options, text.str());
    return 0;
  }

  EmitOptions emitOptions;
  emitOptions.target = options.target;
  emitOptions.passes = passesApplied;
  for (const std::string &pass :
       {describeClip(spec.passes.clip),
        std::string(spec.passes.skipNonfinite ? "skip_nonfinite" : "")})
    if (!pass.empty())
      emitOptions.passes += (emitOptions.passes.empty() ? "" : ",") + pass;

  // --emit llvm and obj are the LLVM backend's forms, --emit cpp the C++
  // backend's; each picks its backend, and naming the other is a mistake.
  bool emitsLlvm = options.emit == "llvm" || options.emit == "obj";
  if ((emitsLlvm && options.backend == "cpp") ||
      (options.emit == "cpp" && options.backend == "llvm"))
    userError(commandLine,
              "--emit " + options.emit + " is not a form of the " +
                  *options.backend + " backend",
              emitsLlvm ? "--emit llvm and --emit obj use the llvm backend"
                        : "--emit cpp uses the cpp backend");
  bool llvmBackend =
      emitsLlvm || (options.backend == "llvm" && options.emit != "cpp");
  emitOptions.backend = llvmBackend ? "llvm" : "cpp";

  std::string output = options.output;
  if (options.emit.empty()) {
    if (output.empty())
      output = std::filesystem::path(options.model).stem().string();
    if (output == "-")
      userError(commandLine, "a trainer cannot be written to stdout",
                "name the output file with -o");
  } else if (output.empty()) {
    output = "-";
  }
  checkOutputPath(output, options.model);

  BuildOptions build;
  build.optLevel = options.optLevel;
  build.target = options.target;
  build.verbose = options.verbose;

  if (!llvmBackend) {
    std::string source = emitCpp(spec, graph, plan, emitOptions);
    timer.done("codegen");
    if (options.emit == "cpp") {
      writeOutput(output, source);
      return 0;
    }
    buildTrainer(source, output, build);
    timer.done("c++ compile and link");
    return 0;
  }

  LlvmOptions llvm;
  llvm.optLevel = options.optLevel;
  llvm.emit = emitOptions;
  llvm.phaseDone = [&timer](const char *phase) { timer.done(phase); };
  LlvmResult result = compileWithLlvm(spec, graph, plan, llvm,
                                      options.emit == "llvm",
                                      options.emit != "llvm");
  if (options.emit == "llvm") {
    writeOutput(output, result.ir);
    return 0;
  }
  if (options.emit == "obj") {
    if (output == "-" && isatty(STDOUT_FILENO))
      userError(commandLine, "an object file is not for a terminal",
                "name the output file with -o");
    writeOutput(output, result.object);
    return 0;
  }
  linkTrainer(result.object, output, build);
  timer.done("link");
  return 0;
}

// CLI11 prints a flag's default value after its name, as --residual{2};
// the help shows instead how the optional value is written.
class HelpFormatter : public CLI::Formatter {
public:
  std::string make_option_name(const CLI::Option *option,
                               bool positional) const override {
    std::string name = CLI::Formatter::make_option_name(option, positional);
    const size_t brace = name.find('{');
    if (brace != std::string::npos && name.back() == '}')
      name = name.substr(0, brace) + "[=K]";
    return name;
  }
};

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"gradc: compiles a neural network described in YAML into a "
               "standalone trainer"};
  app.formatter(std::make_shared<HelpFormatter>());
  app.set_version_flag("--version", "gradc 0.1.0");
  app.footer("gradc plot GRADS.csv -o FILE.svg draws a trainer's gradient-norm "
             "log; 'gradc plot --help' for its options.");

  // A switch takes no value (--batchnorm=0 was taken as --batchnorm);
  // only --residual=K has one.
  app.option_defaults()->disable_flag_override();

  Options options;
  app.add_option("model", options.model, "the model file (YAML)")->required();
  app.add_option("-o", options.output,
                 "output: the trainer, or the --emit text ('-' is stdout)");
  app.add_option_function<std::string>(
         "--backend",
         [&options](const std::string &value) { options.backend = value; },
                 "code generator: cpp (default) or llvm")
      ->check(CLI::IsMember({"cpp", "llvm"}));
  app.add_option("--emit", options.emit,
                 "write an intermediate form: graph, dot (the graph for "
                 "Graphviz), cpp, llvm (the optimized IR) or obj")
      ->check(CLI::IsMember({"graph", "dot", "cpp", "llvm", "obj"}));
  app.add_option("--target", options.target, "instruction set")
      ->check(CLI::IsMember({"native", "generic", "avx2", "avx512"}));
  app.add_option("-O", options.optLevel, "optimization level, 0 to 3")
      ->check(CLI::Range(0, 3));
  app.add_flag("-v", options.verbose, "report what each phase does");
  app.add_flag("--report", options.report,
               "static gradient-flow analysis; builds nothing");

  // The pass switches of the contract, which override the model file's
  // passes: section.
  app.add_flag_callback(
      "--batchnorm",
      [&options] {
        options.batchnorm = true;
        options.batchnormSwitches.push_back("--batchnorm");
      },
      "insert BatchNorm after every dense and conv2d layer but the last");
  app.add_flag_callback(
      "--no-batchnorm",
      [&options] {
        options.batchnorm = false;
        options.batchnormSwitches.push_back("--no-batchnorm");
      },
      "no BatchNorm pass, whatever the model file says");
  // A flag, so that K comes only as --residual=K: an option with an
  // optional value took the model file that followed it for K.
  std::string residualText;
  app.add_flag("--residual{2}", residualText,
               "wrap each run of K shape-preserving layers in an identity "
               "skip; --residual=K, K 2 when not given")
      ->disable_flag_override(false)
      ->each([&options](const std::string &value) {
        options.residual = value.empty() ? 2 : parseRunLength(value);
        options.residualSwitches.push_back("--residual");
      });
  app.add_flag_callback(
      "--no-residual",
      [&options] {
        options.residual = 0;
        options.residualSwitches.push_back("--no-residual");
      },
      "no residual pass, whatever the model file says");
  // The threshold is checked after parsing, so that its message has
  // gradc's form rather than CLI11's.
  app.add_option_function<double>(
      "--clip-norm",
      [&options](double value) {
        options.clip = ClipSpec{ClipKind::GlobalNorm, value};
        options.clipSwitches.push_back("--clip-norm");
      },
      "clip the gradients' global L2 norm to X (overrides passes.clip)");
  app.add_option_function<double>(
      "--clip-value",
      [&options](double value) {
        options.clip = ClipSpec{ClipKind::Value, value};
        options.clipSwitches.push_back("--clip-value");
      },
      "clamp each gradient element to [-X, X] (overrides passes.clip)");
  app.add_flag_callback(
      "--no-clip",
      [&options] {
        options.clip = ClipSpec{};
        options.clipSwitches.push_back("--no-clip");
      },
      "no gradient clipping, whatever passes.clip says");

  if (argc > 1 && std::string(argv[1]) == "plot") {
    return runPlotCommand(argc, argv);
  }

  try {
    // CLI11 reads an empty --residual= as the flag's default, 2; an empty
    // K more likely comes from a script's unset variable.
    for (int i = 1; i < argc; ++i)
      if (std::string(argv[i]) == "--residual=")
        throw CLI::ValidationError(
            "--residual", "K must be an integer from 1 to 1000, not ''");
    app.parse(argc, argv);
  } catch (const CLI::Success &success) {
    return app.exit(success);
  } catch (const CLI::ParseError &error) {
    std::cerr << "gradc: error: " << error.what() << "\n";
    // `--residual 3` parses as the flag and a stray 3 (or a stray model).
    for (int i = 1; i + 1 < argc; ++i) {
      const std::string next = argv[i + 1];
      if (std::string(argv[i]) == "--residual" && !next.empty() &&
          next.find_first_not_of("0123456789") == std::string::npos) {
        std::cerr << "gradc: note: write the run length as --residual=" << next
                  << "\n";
        return 1;
      }
    }
    std::cerr << "run 'gradc --help' for the options\n";
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
