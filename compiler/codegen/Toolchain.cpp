//===- Toolchain.cpp - Build a trainer with the system compiler -----------===//
//
// The compiler runs as a child process with an argument vector, never
// through a shell, so no path can be read as a command. Its output goes to
// a log file that is shown only when it fails.
//
//===----------------------------------------------------------------------===//
#include "codegen/Toolchain.h"

#include "frontend/Diagnostics.h"

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

void buildTrainer(const std::string &source, const std::string &output,
                  const BuildOptions &options) {
  RuntimeLocation runtime = findRuntime();

  // A missing compiler is a problem of the machine, not of gradc.
  const char *fromEnv = std::getenv("CXX");
  std::string compiler = fromEnv && *fromEnv ? fromEnv : "c++";
  if (!isExecutable(compiler))
    throw UserError(SourceLoc{"gradc"},
                    "cannot find the C++ compiler '" + compiler + "'",
                    "install one (apt-get install g++) or name it in $CXX");

  // 1. Work in a private directory beside the output, so that the final
  //    rename stays on one file system.
  fs::path outPath = fs::absolute(output);
  std::string hidden = "." + outPath.filename().string() + ".gradc-XXXXXX";
  std::string pattern = (outPath.parent_path() / hidden).string();
  std::vector<char> dirName(pattern.begin(), pattern.end());
  dirName.push_back('\0');
  if (!mkdtemp(dirName.data()))
    throw UserError(SourceLoc{output},
                    "cannot create a build directory next to the output",
                    "check that the directory exists and is writable");
  fs::path workDir(dirName.data());

  fs::path sourcePath = workDir / "model.cpp";
  fs::path binaryPath = workDir / "trainer";
  fs::path logPath = workDir / "compiler.log";
  std::ofstream(sourcePath) << source;

  // 2. Compile and link.
  std::vector<std::string> argv = {compiler, "-std=c++20"};
  for (const std::string &flag : targetFlags(options))
    argv.push_back(flag);
  argv.insert(argv.end(),
              {"-I", runtime.includeDir, sourcePath.string(), runtime.library,
               "-lfmt", "-lz", "-o", binaryPath.string()});
  if (options.verbose) {
    std::cerr << "gradc: running";
    for (const std::string &arg : argv)
      std::cerr << " " << arg;
    std::cerr << "\n";
  }
  int status = runProcess(argv, logPath);

  // 3. Move the trainer into place, or report what the compiler said and
  //    keep the source for the bug report.
  if (status != 0) {
    std::ifstream log(logPath);
    std::stringstream text;
    text << log.rdbuf();
    throw InternalError("the C++ compiler failed on the generated code (" +
                        std::string(argv[0]) + " exited with " +
                        std::to_string(status) + "); the source is kept in " +
                        sourcePath.string() + "\n" + text.str());
  }
  std::error_code error;
  fs::rename(binaryPath, outPath, error);
  if (error)
    throw UserError(SourceLoc{output},
                    "cannot write the trainer: " + error.message());
  fs::remove_all(workDir, error);
}

} // namespace gradc
