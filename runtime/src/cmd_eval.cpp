// `eval`: loss and accuracy of a checkpoint on the test split.
#include "command_support.h"
#include "commands.h"
#include "errors.h"
#include "evaluate.h"
#include "settings.h"

namespace gradc {

int runEval(const gradc_model &model, const Options &options) {
  const gradc_config &config = *model.config;
  const DataSettings data = resolveData(config, options.data);
  if (!data.test)
    throw UserError("no test data: the model file names none",
                    "give --test-images and --test-labels (IDX), --test-x "
                    "and --test-y (.npy), or --test-csv and "
                    "--test-label-column");
  const Dataset test =
      loadSplit(model, *data.test, data.transform, "test", options);

  Network<float> network(model);
  startParameters(model, options, resolveSeed(config, options), network);

  const Evaluation result =
      evaluate(network, test, resolveBatch(config, options));
  std::string line = fmt::format("test_loss {:.4f}", result.loss);
  if (result.accuracy)
    line += fmt::format("  test_acc {:.4f}", *result.accuracy);
  fmt::print("{}  ({} samples)\n", line, result.count);
  return 0;
}

} // namespace gradc
