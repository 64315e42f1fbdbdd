// The trainer's subcommands, one file each. Every one returns the process's
// exit status and throws UserError for what the user can fix.
#ifndef GRADC_RUNTIME_COMMANDS_H
#define GRADC_RUNTIME_COMMANDS_H

#include "gradc/abi.h"
#include "options.h"

namespace gradc {

int runTrain(const gradc_model &model, const Options &options);
int runEval(const gradc_model &model, const Options &options);
int runPredict(const gradc_model &model, const Options &options);
int runStep(const gradc_model &model, const Options &options);
int runGradcheck(const gradc_model &model, const Options &options);
int runInfo(const gradc_model &model, const Options &options);

} // namespace gradc

#endif // GRADC_RUNTIME_COMMANDS_H
