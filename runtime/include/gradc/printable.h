// Text from the user's files made safe to quote in a message: newlines,
// tabs and other control bytes (escape sequences, NUL) written as \n, \t
// and \xHH, so that a diagnostic stays on its line, a NUL does not cut it
// short, and the terminal is left as it was. Both gradc and the trainers
// print their messages through it.
#ifndef GRADC_PRINTABLE_H
#define GRADC_PRINTABLE_H

#include <string>
#include <string_view>

namespace gradc {

inline std::string printable(std::string_view text) {
  static const char hex[] = "0123456789abcdef";
  std::string result;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n')
      result += "\\n";
    else if (c == '\t')
      result += "\\t";
    else if (byte < 0x20 || byte == 0x7f)
      result += std::string("\\x") + hex[byte >> 4] + hex[byte & 15];
    else
      result += c;
  }
  return result;
}

} // namespace gradc

#endif // GRADC_PRINTABLE_H
