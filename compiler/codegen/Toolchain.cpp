//===- Toolchain.cpp - Build a trainer with the system compiler -----------===//
//
// The compiler runs as a child process with an argument vector, never
// through a shell, so no path can be read as a command. Its output goes to
// a log file that is shown only when it fails.
//
//===----------------------------------------------------------------------===//
#include "codegen/Toolchain.h"

#include "frontend/Diagnostics.h"
#include "temporary_files.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace gradc {

namespace fs = std::filesystem;

static fs::path executableDir() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : self.parent_path();
}

RuntimeLocation findRuntime() {
  std::vector<RuntimeLocation> candidates;

  fs::path prefix = executableDir().parent_path();
  if (!prefix.empty())
    candidates.push_back(
        {(prefix / GRADC_INSTALL_INCLUDEDIR).string(),
         (prefix / GRADC_INSTALL_LIBDIR / "gradc" / "libgradc_runtime.a")
             .string()});
  candidates.push_back({GRADC_BUILD_INCLUDE_DIR, GRADC_BUILD_RUNTIME_LIBRARY});

  std::string looked;
  for (const RuntimeLocation &place : candidates) {
    std::error_code error;
    if (fs::is_regular_file(fs::path(place.includeDir) / "gradc" / "abi.h",
                            error) &&
        fs::is_regular_file(place.library, error))
      return place;
    looked += "\n  " + place.library;
  }
  throw InternalError("cannot find the gradc runtime; looked for" + looked);
}

std::vector<std::string> targetFlags(const BuildOptions &options) {
  // gradc's default -O2 asks for optimized code; the C++ compiler's -O3
  // adds the loop vectorization the generated loops are written for.
  std::vector<std::string> flags = {
      options.optLevel >= 2 ? "-O3" : "-O" + std::to_string(options.optLevel)};
  if (options.target == "native")
    flags.push_back("-march=native");
  else if (options.target == "avx2")
    flags.push_back("-march=haswell");
  else if (options.target == "avx512")
    flags.push_back("-march=skylake-avx512");
  else
    flags.push_back("-march=x86-64");
  return flags;
}

std::vector<std::string> linkFlags(const RuntimeLocation &runtime) {
  return {runtime.library, kOpenMPFlag, "-lfmt", "-lz"};
}

// Whether `program` names an executable file, directly or through PATH.
static bool isExecutable(const std::string &program) {
  if (program.find('/') != std::string::npos)
    return access(program.c_str(), X_OK) == 0;
  const char *path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0)
      return true;
  return false;
}

// Runs `argv` with its output sent to `logPath`; returns its exit status.
static int runProcess(const std::vector<std::string> &argv,
                      const fs::path &logPath) {
  std::vector<char *> args;
  for (const std::string &arg : argv)
    args.push_back(const_cast<char *>(arg.c_str()));
  args.push_back(nullptr);

  pid_t child = fork();
  if (child < 0)
    throw InternalError("cannot start the C++ compiler: fork failed");
  if (child == 0) {
    FILE *log = std::fopen(logPath.c_str(), "w");
    if (log) {
      dup2(fileno(log), STDOUT_FILENO);
      dup2(fileno(log), STDERR_FILENO);
    }
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run '%s'\n", args[0]);
    _exit(127);
  }

  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      throw InternalError("lost track of the C++ compiler");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// The compiler or linker named by $CXX, or c++. A missing one is a
// problem of the machine, not of gradc.
static std::string findCompiler() {
  const char *fromEnv = std::getenv("CXX");
  std::string compiler = fromEnv && *fromEnv ? fromEnv : "c++";
  if (!isExecutable(compiler))
    throw UserError(SourceLoc{"gradc"},
                    "cannot find the C++ compiler '" + compiler + "'",
                    "install one (apt-get install g++) or name it in $CXX");
  return compiler;
}

// The build directory and its files, registered for removal by SIGINT,
// SIGTERM or SIGHUP while gradc builds in it (an interrupted build left
// it beside the output), and forgotten again when the build ends.
namespace {
class RemovedOnSignal {
public:
  void add(const fs::path &path) {
    slots_.push_back(registerTemporaryFile(path.string()));
  }
  ~RemovedOnSignal() {
    for (int slot : slots_)
      unregisterTemporaryFile(slot);
  }

private:
  std::vector<int> slots_;
};
} // namespace

// Writes `input` as `inputName` in a private directory beside `output`,
// runs `before` + the input's path + `after` + "-o" binary there, and
// renames the binary to `output`. The directory keeps the rename on one
// file system; on failure it is kept for the bug report.
static void buildInPrivateDir(const std::string &inputName,
                              const std::string &input,
                              std::vector<std::string> before,
                              const std::vector<std::string> &after,
                              const std::string &output, bool verbose) {
  fs::path outPath = fs::absolute(output);
  // The output's name is cut short so that a name near the file system's
  // 255-byte limit still leaves room for the suffix.
  std::string hidden =
      "." + outPath.filename().string().substr(0, 100) + ".gradc-XXXXXX";
  std::string pattern = (outPath.parent_path() / hidden).string();
  std::vector<char> dirName(pattern.begin(), pattern.end());
  dirName.push_back('\0');
  if (!mkdtemp(dirName.data()))
    throw UserError(SourceLoc{output},
                    "cannot create a build directory next to the output",
                    "check that the directory exists and is writable");
  fs::path workDir(dirName.data());

  fs::path inputPath = workDir / inputName;
  fs::path binaryPath = workDir / "trainer";
  fs::path logPath = workDir / "compiler.log";
  RemovedOnSignal removedOnSignal;
  for (const fs::path &path : {workDir, inputPath, logPath, binaryPath})
    removedOnSignal.add(path);
  {
    std::ofstream file(inputPath, std::ios::binary);
    file << input;
    file.flush();
    if (!file) {
      std::error_code ignored;
      fs::remove_all(workDir, ignored);
      throw UserError(SourceLoc{output},
                      "cannot write the build files next to the output",
                      "check the free space and the file size limit");
    }
  }

  std::vector<std::string> argv = std::move(before);
  argv.push_back(inputPath.string());
  argv.insert(argv.end(), after.begin(), after.end());
  argv.insert(argv.end(), {"-o", binaryPath.string()});
  if (verbose) {
    std::cerr << "gradc: running";
    for (const std::string &arg : argv)
      std::cerr << " " << arg;
    std::cerr << "\n";
  }
  int status = runProcess(argv, logPath);

  if (status != 0) {
    std::ifstream log(logPath);
    std::stringstream text;
    text << log.rdbuf();
    throw InternalError("building the trainer failed (" + argv[0] +
                        " exited with " + std::to_string(status) +
                        "); its input is kept in " + inputPath.string() +
                        "\n" + text.str());
  }
  std::error_code error;
  fs::rename(binaryPath, outPath, error);
  std::error_code ignored;
  fs::remove_all(workDir, ignored);
  if (error)
    throw UserError(SourceLoc{output},
                    "cannot write the trainer: " + error.message());
}

void buildTrainer(const std::string &source, const std::string &output,
                  const BuildOptions &options) {
  RuntimeLocation runtime = findRuntime();
  std::vector<std::string> compile = {findCompiler(), "-std=c++20"};
  for (const std::string &flag : targetFlags(options))
    compile.push_back(flag);
  compile.insert(compile.end(), {kOpenMPFlag, "-I", runtime.includeDir});
  buildInPrivateDir("model.cpp", source, compile, linkFlags(runtime), output,
                    options.verbose);
}

std::string kernelsLibrary(const RuntimeLocation &runtime,
                           const std::string &target) {
  fs::path library = fs::path(runtime.library).parent_path() /
                     ("libgradc_kernels_" + target + ".a");
  std::error_code error;
  if (!fs::is_regular_file(library, error))
    throw InternalError("cannot find the precompiled kernels " +
                        library.string());
  return library.string();
}

void linkTrainer(const std::string &object, const std::string &output,
                 const BuildOptions &options) {
  RuntimeLocation runtime = findRuntime();
  std::vector<std::string> after = {kernelsLibrary(runtime, options.target)};
  for (const std::string &flag : linkFlags(runtime))
    after.push_back(flag);
  buildInPrivateDir("model.o", object, {findCompiler()}, after, output,
                    options.verbose);
}

} // namespace gradc
