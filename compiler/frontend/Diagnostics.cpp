//===- Diagnostics.cpp - User errors and internal errors ------------------===//
//
// Formatting of diagnostics in the form compilers use, so that editors and
// terminals can jump to the location.
//
//===----------------------------------------------------------------------===//
#include "frontend/Diagnostics.h"

#include <gradc/printable.h>

#include <ostream>

namespace gradc {

std::string SourceLoc::str() const {
  if (line <= 0)
    return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

void userError(const SourceLoc &loc, const std::string &message,
               const std::string &hint) {
  throw UserError(loc, message, hint);
}

void internalCheck(bool condition, const std::string &what) {
  if (!condition)
    throw InternalError(what);
}

// Messages quote the user's text, which may hold newlines or terminal
// escape sequences: they are printed through printable().
void printUserError(std::ostream &out, const UserError &error) {
  out << error.loc.str() << ": error: " << printable(error.what()) << "\n";
  if (!error.hint.empty())
    out << error.loc.str() << ": note: " << printable(error.hint) << "\n";
}

} // namespace gradc
