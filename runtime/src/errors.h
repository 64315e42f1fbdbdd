// The trainer's two kinds of failure. A UserError is something the user can
// fix: a missing file, a bad option, data that does not fit the model. main()
// prints it as "error: ..." with an optional hint line and exits with status
// 1. Anything else that escapes is a bug in gradc and exits with status 2.
#ifndef GRADC_RUNTIME_ERRORS_H
#define GRADC_RUNTIME_ERRORS_H

#include <stdexcept>
#include <string>

namespace gradc {

struct UserError : std::runtime_error {
  explicit UserError(const std::string &message, std::string hint_text = {})
      : std::runtime_error(message), hint(std::move(hint_text)) {}

  std::string hint; // one line saying what to do about it, or empty
};

} // namespace gradc

#endif // GRADC_RUNTIME_ERRORS_H
