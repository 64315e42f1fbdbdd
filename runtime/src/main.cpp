// The trainer's entry point. The generated model object supplies
// gradc_get_model(); everything here is the same for every model: check
// that the two halves were built against the same ABI, parse the command
// line, check that the processor runs the code's --target, run the
// subcommand, and turn failures into messages and exit
// statuses (0 success, 1 the user's mistake, 2 a bug in gradc).
#include "commands.h"
#include "errors.h"
#include "options.h"
#include "processor_check.h"
#include "tensor_io.h"

#include <gradc/float_mode.h>
#include <gradc/parallel.h>
#include <gradc/printable.h>

#include <cstdio>
#include <fmt/core.h>
#include <new>

namespace {

int dispatch(const gradc_model &model, const gradc::Options &options) {
  using gradc::Command;
  switch (options.command) {
  case Command::Train:
    return gradc::runTrain(model, options);
  case Command::Eval:
    return gradc::runEval(model, options);
  case Command::Predict:
    return gradc::runPredict(model, options);
  case Command::Step:
    return gradc::runStep(model, options);
  case Command::Gradcheck:
    return gradc::runGradcheck(model, options);
  case Command::Info:
    return gradc::runInfo(model, options);
  }
  return 2;
}

void printError(const std::string &message, const std::string &hint) {
  // Whatever the command printed comes first, then the diagnostic.
  std::fflush(stdout);
  fmt::print(stderr, "error: {}\n", gradc::printable(message));
  if (!hint.empty())
    fmt::print(stderr, "hint: {}\n", gradc::printable(hint));
}

} // namespace

int main(int argc, char **argv) {
  const gradc_model *model = gradc_get_model();
  if (!model || model->abi_version != GRADC_ABI_VERSION) {
    fmt::print(stderr,
               "internal error: the model was generated for ABI version {}, "
               "but the runtime is version {}\n",
               model ? model->abi_version : -1, GRADC_ABI_VERSION);
    return 2;
  }

  try {
    const auto options = gradc::parseOptions(argc, argv, model->name);
    if (!options)
      return 0;
    // info only reads the model table, so it runs anywhere.
    if (options->command != gradc::Command::Info)
      gradc::checkProcessorFor(model->target ? model->target : "");
    if (options->threads)
      gradc::setThreads(static_cast<int>(*options->threads));
    if (!options->keep_subnormals)
      gradc::flushSubnormals();
    return dispatch(*model, *options);
  } catch (const gradc::UserError &failure) {
    printError(failure.what(), failure.hint);
  } catch (const gradc::IoError &failure) {
    printError(failure.what(), "");
  } catch (const std::bad_alloc &) {
    printError("out of memory", "use a smaller --batch or less data");
  } catch (const std::exception &failure) {
    std::fflush(stdout);
    fmt::print(stderr, "internal error: {}\n", failure.what());
    return 2;
  }
  return 1;
}
