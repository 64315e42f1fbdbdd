// Internal to tensor_io: the parser of the Python literal that makes up a
// .npy header, kept apart from the .npy reader so that the reader deals in
// parsed values and the parser alone faces the raw, possibly hostile text.
#ifndef GRADC_RUNTIME_PY_LITERAL_H
#define GRADC_RUNTIME_PY_LITERAL_H

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gradc {

// A value in the Python literal that makes up a .npy header.
struct PyValue {
  enum class Kind { String, Boolean, None, Integer, Sequence, Dict };
  Kind kind = Kind::None;
  std::string text;
  bool boolean = false;
  int64_t integer = 0;
  std::vector<PyValue> items;
  std::vector<std::pair<std::string, PyValue>> entries;
};

// Parses text, the header of the .npy file at path, as the small subset of
// Python literals that numpy writes: a dict of strings, booleans, integers
// and tuples. Malformed text throws an IoError that says where it is wrong.
PyValue parsePyLiteral(const std::string &path, std::string_view text);

} // namespace gradc

#endif // GRADC_RUNTIME_PY_LITERAL_H
