//===- Diagnostics.cpp - User errors and internal errors ------------------===//
//
// Formatting of diagnostics in the form compilers use, so that editors and
// terminals can jump to the location.
//
//===----------------------------------------------------------------------===//
#include "frontend/Diagnostics.h"

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
// escape sequences; escaping them keeps each diagnostic on its line and the
// terminal as it was.
static std::string printable(const std::string &text) {
  static const char Hex[] = "0123456789abcdef";
  std::string result;
  for (char c : text) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (c == '\n')
      result += "\\n";
    else if (c == '\t')
      result += "\\t";
    else if (byte < 0x20 || byte == 0x7f)
      result += std::string("\\x") + Hex[byte >> 4] + Hex[byte & 15];
    else
      result += c;
  }
  return result;
}

void printUserError(std::ostream &out, const UserError &error) {
  out << error.loc.str() << ": error: " << printable(error.what()) << "\n";
  if (!error.hint.empty())
    out << error.loc.str() << ": note: " << printable(error.hint) << "\n";
}

} // namespace gradc
