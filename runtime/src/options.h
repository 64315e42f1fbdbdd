// The trainer's command line: one subcommand per job, parsed with CLI11
// into a plain struct. Values the user leaves out stay empty here; the
// commands fill them from the model's configuration, so the YAML's values
// are the defaults and the options override them.
#ifndef GRADC_RUNTIME_OPTIONS_H
#define GRADC_RUNTIME_OPTIONS_H

#include <cstdint>
#include <optional>
#include <string>

namespace gradc {

enum class Command { Train, Eval, Predict, Step, Gradcheck, Info };

// The largest batch an option or a checkpoint may give, the compiler's
// bound on the model file's batch; larger ones overflow sample offsets long
// before they fit in memory.
constexpr int64_t kMaxBatch = int64_t{1} << 20;
// gradcheck's batch: each checked element costs two passes over it.
constexpr int64_t kMaxGradcheckBatch = 4096;
// --threads: far more than any machine gradc runs on has cores.
constexpr int64_t kMaxThreads = 1024;

// One split's files named on the command line; a pair overrides the
// model file's split of the same name.
struct SplitOptions {
  std::string images, labels; // IDX
  std::string x, y;           // .npy
  std::string csv;            // CSV, with the target in label_column
  int64_t label_column = -1;
};

struct DataOptions {
  SplitOptions train;
  SplitOptions test;
};

struct Options {
  Command command = Command::Info;
  bool verbose = false;
  bool quiet = false;

  std::optional<int64_t> epochs, batch, steps, grad_every;
  std::optional<double> lr;
  std::optional<uint64_t> seed;
  std::optional<int64_t> threads;
  bool keep_subnormals = false; // see gradc/float_mode.h

  std::string load, resume, save; // checkpoints
  std::string metrics, grad_log;  // logs
  DataOptions data;

  std::string input, output; // predict
  std::string x, y, dump;    // step
  std::optional<double> eps; // gradcheck
  std::optional<double> tol;
};

// Parses argv. Returns nothing when the user asked for --help, which has
// then been printed; throws UserError for anything malformed.
std::optional<Options> parseOptions(int argc, char **argv,
                                    const std::string &model_name);

} // namespace gradc

#endif // GRADC_RUNTIME_OPTIONS_H
