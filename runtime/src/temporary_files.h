// Temporary files that a signal must not leave behind. AtomicFileWriter
// registers its file while it writes, and gradc its build directory;
// SIGINT, SIGTERM or SIGHUP then removes every registered file before the
// process ends as the signal would have ended it. Only signals whose
// action is the default get the handler: those the process ignores (a
// background job's SIGINT, nohup's SIGHUP) stay ignored, and another
// handler is left in place. SIGKILL cannot be caught: a file it leaves
// keeps the .tmp ending that marks it.
#ifndef GRADC_RUNTIME_TEMPORARY_FILES_H
#define GRADC_RUNTIME_TEMPORARY_FILES_H

#include <string>

namespace gradc {

// Registers path for removal on a signal and returns its slot, or -1 when
// the path is too long for a slot or every slot is taken (then a signal
// leaves the file). A path may name a directory whose files are
// registered after it with no slot freed in between: a signal goes
// through the slots from the last to the first, files before their
// directory.
int registerTemporaryFile(const std::string &path);

// Forgets the file in `slot` (a no-op for -1): it was renamed or removed.
void unregisterTemporaryFile(int slot);

} // namespace gradc

#endif // GRADC_RUNTIME_TEMPORARY_FILES_H
