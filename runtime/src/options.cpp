// CLI11 definitions of the trainer's subcommands (see options.h). Parse
// errors become UserErrors so that they print and exit like every other
// mistake the user can make.
#include "options.h"

#include "errors.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace gradc {
namespace {

// CLI11's own range checks print their limits as 300-digit numbers; these
// say in words what is wrong with the value. Infinity and NaN are never
// meant, and would only make training or gradcheck pass or fail vacuously.
CLI::Validator numberIn(double lowest, bool inclusive, double highest,
                        const std::string &name) {
  return CLI::Validator(
      [=](std::string &text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value))
          return fmt::format("'{}' is not a number", text);
        if (!std::isfinite(value))
          return fmt::format("{} is not finite: give {}", text, name);
        if ((inclusive ? value >= lowest : value > lowest) && value <= highest)
          return {};
        return fmt::format("{} must be {}", text, name);
      },
      name);
}

// A whole number in plain decimal from lowest to highest. CLI11 alone
// would read "010" as octal, "-1" as a huge unsigned number and a number
// past the type's range as its largest value; the text is checked here and
// rewritten as the number checked, which CLI11 then reads as it is (so the
// options add it with transform(), which lets it rewrite, not check()).
template <typename Integer>
CLI::Validator wholeNumber(Integer lowest, Integer highest) {
  const std::string name =
      fmt::format("a whole number from {} to {}", lowest, highest);
  return CLI::Validator(
      [=](std::string &text) -> std::string {
        // Digits after a minus sign at most; whatever from_chars then
        // refuses (a negative unsigned, too many digits) is out of range.
        const size_t first = text.starts_with('-') ? 1 : 0;
        if (text.size() == first ||
            text.find_first_not_of("0123456789", first) != std::string::npos)
          return fmt::format("'{}' is not a whole number", text);
        Integer value{};
        const char *end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        if (stop != end || error != std::errc() || value < lowest ||
            value > highest)
          return fmt::format("{} is out of range: give {}", text, name);
        text = std::to_string(value);
        return {};
      },
      name);
}

constexpr int64_t kLargest = std::numeric_limits<int64_t>::max();
const CLI::Validator kPositive =
    numberIn(0, false, std::numeric_limits<double>::max(), "a positive number");
const CLI::Validator kPositiveCount = wholeNumber<int64_t>(1, kLargest);

const char *const kSubcommands[] = {"train", "eval",      "predict",
                                    "step",  "gradcheck", "info"};

// CLI11 reports a missing or misspelled subcommand as "a subcommand is
// required"; naming the word and the choices helps more.
void checkSubcommand(int argc, char **argv) {
  const std::string choices =
      fmt::format("the subcommands are {}", fmt::join(kSubcommands, ", "));
  if (argc < 2)
    throw UserError("no subcommand given", choices);
  const std::string word = argv[1];
  if (word.empty() || word[0] == '-')
    return;
  for (const char *known : kSubcommands)
    if (word == known)
      return;
  throw UserError(fmt::format("unknown subcommand '{}'", word), choices);
}

// Options CLI11 cannot store as std::optional directly: the value is parsed
// into a plain variable and kept only when the option was given. One
// Optional serves the same option of several subcommands, so it remembers
// each registration; only the subcommand being run can have a count.
template <typename T> struct Optional {
  T value{};
  std::vector<CLI::Option *> registrations;

  void add(CLI::Option *option) { registrations.push_back(option); }

  void copyTo(std::optional<T> &target) const {
    for (const CLI::Option *option : registrations)
      if (option->count() > 0)
        target = value;
  }
};

struct Parser {
  CLI::App app;
  Options options;
  Optional<int64_t> epochs, batch, steps, grad_every, threads;
  Optional<double> lr, eps, tol;
  Optional<uint64_t> seed;

  explicit Parser(const std::string &model_name)
      : app(fmt::format("trainer for the model '{}', built by gradc",
                        model_name)) {}

  // `quiet`: the command also takes --quiet (only train does), which
  // leaves these notes.
  void addVerbose(CLI::App *command, bool quiet = false) {
    command->add_flag("-v,--verbose", options.verbose,
                      quiet ? "say more about what happens, on stderr "
                              "(--quiet leaves these notes)"
                            : "say more about what happens, on stderr");
  }

  void addLr(CLI::App *command) {
    // The optimizers apply the rate in float, where 1e39 is infinite.
    lr.add(command->add_option("--lr", lr.value, "learning rate")
               ->check(numberIn(0, true, std::numeric_limits<float>::max(),
                                "a number from 0 to 3.4e38, the largest "
                                "float")));
  }

  void addSeed(CLI::App *command, const std::string &description) {
    seed.add(command->add_option("--seed", seed.value, description)
                 ->transform(wholeNumber<uint64_t>(
                     0, std::numeric_limits<uint64_t>::max())));
  }

  void addBatch(CLI::App *command,
                const std::string &description = "samples per batch",
                int64_t largest = kMaxBatch) {
    batch.add(command->add_option("--batch", batch.value, description)
                  ->transform(wholeNumber<int64_t>(1, largest)));
  }

  // The kernels and the optimizer split their loops over this many
  // threads; each value comes out the same whatever the count.
  void addThreads(CLI::App *command) {
    threads.add(command
                    ->add_option("--threads", threads.value,
                                 "threads to compute on (default: all the "
                                 "processors, or OMP_NUM_THREADS); the "
                                 "results are the same for any count")
                    ->transform(wholeNumber<int64_t>(1, kMaxThreads)));
    command->add_flag("--keep-subnormals", options.keep_subnormals,
                      "compute with subnormal floats as PyTorch does, "
                      "instead of flushing them to zero (slower when "
                      "they appear)");
  }

  // --<split>-images and --<split>-labels, --<split>-x and --<split>-y, or
  // --<split>-csv and --<split>-label-column.
  void addData(CLI::App *command, const std::string &split,
               const std::string &words, SplitOptions &files) {
    auto *images =
        command->add_option(fmt::format("--{}-images", split), files.images,
                            fmt::format("{} inputs, IDX (gzip or not)", words));
    auto *labels =
        command->add_option(fmt::format("--{}-labels", split), files.labels,
                            fmt::format("{} labels, IDX", words));
    auto *x = command->add_option(fmt::format("--{}-x", split), files.x,
                                  fmt::format("{} inputs, .npy", words));
    auto *y =
        command->add_option(fmt::format("--{}-y", split), files.y,
                            fmt::format("{} labels or targets, .npy", words));
    pairUp(images, labels, x, y);

    auto *csv =
        command->add_option(fmt::format("--{}-csv", split), files.csv,
                            fmt::format("{} samples, CSV", words));
    auto *label_column =
        command
            ->add_option(fmt::format("--{}-label-column", split),
                         files.label_column,
                         "the column of --" + split +
                             "-csv that holds the target, from 0")
            ->transform(wholeNumber<int64_t>(0, kLargest));
    csv->needs(label_column);
    label_column->needs(csv);
    for (CLI::Option *other : {images, labels, x, y})
      csv->excludes(other);
  }

  // Inputs and labels come in pairs, and one split is read from one kind
  // of file.
  static void pairUp(CLI::Option *images, CLI::Option *labels, CLI::Option *x,
                     CLI::Option *y) {
    images->needs(labels);
    labels->needs(images);
    x->needs(y);
    y->needs(x);
    images->excludes(x);
    images->excludes(y);
    labels->excludes(x);
    labels->excludes(y);
  }

  void addTrain() {
    CLI::App *train = app.add_subcommand("train", "train the model");
    train->callback([this] { options.command = Command::Train; });
    epochs.add(train
                   ->add_option("--epochs", epochs.value,
                                "epochs in total, counting resumed ones")
                   ->transform(kPositiveCount));
    addBatch(train);
    addLr(train);
    addSeed(train, "seed for initialization and shuffling");
    steps.add(train
                  ->add_option("--steps", steps.value,
                               "stop after this many optimizer steps in total")
                  ->transform(kPositiveCount));
    addThreads(train);
    auto *load = train->add_option("--load", options.load,
                                   "start from this checkpoint's parameters");
    auto *resume = train->add_option(
        "--resume", options.resume,
        "continue exactly where the run that saved this checkpoint stopped");
    load->excludes(resume);
    resume->excludes(load);
    train->add_option("--save", options.save,
                      "write a checkpoint after every epoch and at the end");
    train->add_option("--metrics", options.metrics,
                      "write one JSON line per epoch to this file");
    train->add_option("--grad-log", options.grad_log,
                      "write gradient norms as CSV to this file");
    grad_every.add(
        train
            ->add_option("--grad-every", grad_every.value,
                         "log gradient norms at step 1 and every N steps")
            ->transform(kPositiveCount));
    train->add_flag("-q,--quiet", options.quiet,
                    "print no epoch lines, progress or summary; only "
                    "warnings, errors and -v's notes");
    addData(train, "train", "training", options.data.train);
    addData(train, "test", "test", options.data.test);
    addVerbose(train, true);
  }

  void addEval() {
    CLI::App *eval = app.add_subcommand("eval", "loss and accuracy on the "
                                                "test data");
    eval->callback([this] { options.command = Command::Eval; });
    eval->add_option("--load", options.load, "checkpoint to evaluate")
        ->required();
    addBatch(eval);
    addThreads(eval);
    addData(eval, "test", "test", options.data.test);
    addVerbose(eval);
  }

  void addPredict() {
    CLI::App *predict = app.add_subcommand(
        "predict", "run the model on inputs as they are (no scaling)");
    predict->callback([this] { options.command = Command::Predict; });
    predict->add_option("--load", options.load, "checkpoint")->required();
    predict->add_option("--input", options.input, "inputs, .npy [N, ...]")
        ->required();
    predict->add_option("--output", options.output, "outputs, .npy")
        ->required();
    addBatch(predict);
    addThreads(predict);
    addVerbose(predict);
  }

  void addStep() {
    CLI::App *step = app.add_subcommand(
        "step", "one forward, backward and optimizer step on one batch");
    step->callback([this] { options.command = Command::Step; });
    step->add_option("--load", options.load,
                     "parameters to start from (default: initialized from "
                     "the seed)");
    step->add_option("--x", options.x, "inputs, .npy [N, ...]")->required();
    step->add_option("--y", options.y,
                     "class ids (int32 or int64 .npy) or targets (float .npy)")
        ->required();
    step->add_option("--dump", options.dump,
                     "write the loss, gradients and updated parameters here")
        ->required();
    addLr(step);
    addSeed(step, "seed for initialization and dropout");
    addThreads(step);
    addVerbose(step);
  }

  void addGradcheck() {
    CLI::App *gradcheck = app.add_subcommand(
        "gradcheck", "compare the backward pass with finite differences");
    gradcheck->callback([this] { options.command = Command::Gradcheck; });
    // Below 1e-10 the differences are all rounding, above 0.1 all
    // curvature: a check there passes or fails for no reason.
    eps.add(
        gradcheck->add_option("--eps", eps.value, "finite-difference step")
            ->check(numberIn(1e-10, true, 0.1, "a number from 1e-10 to 0.1")));
    tol.add(gradcheck
                ->add_option("--tol", tol.value,
                             "largest relative error that passes")
                ->check(kPositive));
    addBatch(gradcheck, "samples in the random batch", kMaxGradcheckBatch);
    addSeed(gradcheck, "seed for parameters and the batch");
    addVerbose(gradcheck);
  }

  void addInfo() {
    CLI::App *info = app.add_subcommand(
        "info", "layers, shapes, parameter counts and configuration");
    info->callback([this] { options.command = Command::Info; });
    addBatch(info, "the batch to state the workspace's size at");
    addVerbose(info);
  }

  void copyOptionals() {
    epochs.copyTo(options.epochs);
    batch.copyTo(options.batch);
    steps.copyTo(options.steps);
    grad_every.copyTo(options.grad_every);
    threads.copyTo(options.threads);
    lr.copyTo(options.lr);
    eps.copyTo(options.eps);
    tol.copyTo(options.tol);
    seed.copyTo(options.seed);
  }
};

// The subcommand the user was in when parsing failed, for the hint.
std::string helpCommand(const CLI::App &app, const std::string &program) {
  for (const CLI::App *command : app.get_subcommands())
    return fmt::format("{} {} --help", program, command->get_name());
  return fmt::format("{} --help", program);
}

} // namespace

std::optional<Options> parseOptions(int argc, char **argv,
                                    const std::string &model_name) {
  Parser parser(model_name);
  CLI::App &app = parser.app;
  app.require_subcommand(1);
  parser.addTrain();
  parser.addEval();
  parser.addPredict();
  parser.addStep();
  parser.addGradcheck();
  parser.addInfo();

  const std::string program = argc > 0 ? argv[0] : "trainer";
  checkSubcommand(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &help) {
    app.exit(help);
    return std::nullopt;
  } catch (const CLI::CallForAllHelp &help) {
    app.exit(help);
    return std::nullopt;
  } catch (const CLI::ParseError &failure) {
    // Diagnostics start in lower case, whatever CLI11 wrote.
    std::string message = failure.what();
    if (!message.empty())
      message[0] = static_cast<char>(std::tolower(message[0]));
    throw UserError(message, fmt::format("run '{}' to see the options",
                                         helpCommand(app, program)));
  }

  parser.copyOptionals();
  return parser.options;
}

} // namespace gradc
