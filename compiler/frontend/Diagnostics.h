//===- Diagnostics.h - User errors and internal errors ---------*- C++ -*-===//
//
// gradc has two error channels. A mistake in the user's model file is a
// UserError: it carries a file:line:col location and ends in exit status 1.
// A broken invariant inside the compiler is an InternalError: it says what
// was being compiled and ends in exit status 2.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_FRONTEND_DIAGNOSTICS_H
#define GRADC_FRONTEND_DIAGNOSTICS_H

#include <iosfwd>
#include <stdexcept>
#include <string>

namespace gradc {

// A position in a model file; line and column count from 1. A location
// with line 0 names only the file.
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;

  std::string str() const;
};

class UserError : public std::runtime_error {
public:
  UserError(SourceLoc loc, std::string message, std::string hint = "")
      : std::runtime_error(message), loc(std::move(loc)),
        hint(std::move(hint)) {}

  SourceLoc loc;
  std::string hint;
};

class InternalError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void userError(const SourceLoc &loc, const std::string &message,
                            const std::string &hint = "");

// Checks an invariant of the compiler itself; failing is a gradc bug.
void internalCheck(bool condition, const std::string &what);

// Prints `file:line:col: error: message` and, if there is one, the hint.
void printUserError(std::ostream &out, const UserError &error);

} // namespace gradc

#endif // GRADC_FRONTEND_DIAGNOSTICS_H
