// The parser behind parsePyLiteral: one recursive descent over the text of
// a .npy header.
#include "py_literal.h"

#include "file_io.h"

#include <cctype>
#include <limits>

namespace gradc {
namespace {

// Parses the small subset of Python literals that numpy writes: a dict of
// strings, booleans, integers and tuples. It is written against hostile
// input: bounded nesting, checked integers, and a position in every error.
class PyLiteralParser {
public:
  PyLiteralParser(std::string path, std::string_view text)
      : path_(std::move(path)), text_(text) {}

  PyValue parseDocument() {
    PyValue value = parseValue(0);
    skipSpace();
    if (position_ != text_.size())
      error("unexpected text after the header's dict");
    return value;
  }

private:
  static constexpr int kMaxNesting = 16;
  // A numeric array's header has about ten values; the bound keeps the
  // parsed form of a hostile header small.
  static constexpr size_t kMaxValues = 10'000;

  [[noreturn]] void error(std::string_view what) const {
    fail(path_, "malformed .npy header: {} at character {}", what, position_);
  }

  void skipSpace() {
    while (position_ < text_.size() &&
           (text_[position_] == ' ' || text_[position_] == '\t' ||
            text_[position_] == '\n' || text_[position_] == '\r'))
      ++position_;
  }

  bool consume(char expected) {
    skipSpace();
    if (position_ < text_.size() && text_[position_] == expected) {
      ++position_;
      return true;
    }
    return false;
  }

  PyValue parseValue(int depth) {
    if (depth > kMaxNesting)
      error("too deeply nested");
    if (++values_ > kMaxValues)
      error("too many values");
    skipSpace();
    if (position_ >= text_.size())
      error("header ended where a value was expected");
    char next = text_[position_];
    if (next == '{')
      return parseDict(depth);
    if (next == '(' || next == '[')
      return parseSequence(depth, next == '(' ? ')' : ']');
    if (next == '\'' || next == '"')
      return parseString();
    if (next == '-' || next == '+' || (next >= '0' && next <= '9'))
      return parseInteger();
    return parseName();
  }

  PyValue parseDict(int depth) {
    PyValue dict;
    dict.kind = PyValue::Kind::Dict;
    ++position_;
    while (!consume('}')) {
      PyValue key = parseValue(depth + 1);
      if (key.kind != PyValue::Kind::String)
        error("dict keys must be strings");
      if (!consume(':'))
        error("expected ':' after a dict key");
      PyValue value = parseValue(depth + 1);
      dict.entries.emplace_back(std::move(key.text), std::move(value));
      if (!consume(',')) {
        if (!consume('}'))
          error("expected ',' or '}' in the dict");
        break;
      }
    }
    return dict;
  }

  PyValue parseSequence(int depth, char closing) {
    PyValue sequence;
    sequence.kind = PyValue::Kind::Sequence;
    ++position_;
    while (!consume(closing)) {
      sequence.items.push_back(parseValue(depth + 1));
      if (!consume(',')) {
        if (!consume(closing))
          error("expected ',' or the end of a tuple or list");
        break;
      }
    }
    return sequence;
  }

  PyValue parseString() {
    PyValue string;
    string.kind = PyValue::Kind::String;
    char quote = text_[position_++];
    while (true) {
      if (position_ >= text_.size())
        error("a string is not closed");
      char c = text_[position_++];
      if (c == quote)
        break;
      if (c == '\\') {
        if (position_ >= text_.size())
          error("a string is not closed");
        c = text_[position_++];
      }
      string.text += c;
    }
    return string;
  }

  PyValue parseInteger() {
    PyValue number;
    number.kind = PyValue::Kind::Integer;
    bool negative = text_[position_] == '-';
    if (text_[position_] == '-' || text_[position_] == '+')
      ++position_;
    size_t firstDigit = position_;
    uint64_t magnitude = 0;
    while (position_ < text_.size() && text_[position_] >= '0' &&
           text_[position_] <= '9') {
      uint64_t digit = static_cast<uint64_t>(text_[position_] - '0');
      if (magnitude > (std::numeric_limits<int64_t>::max() - digit) / 10)
        error("number too large");
      magnitude = magnitude * 10 + digit;
      ++position_;
    }
    if (position_ == firstDigit)
      error("expected digits");
    // Python 2 wrote long integers with an L suffix.
    if (position_ < text_.size() &&
        (text_[position_] == 'L' || text_[position_] == 'l'))
      ++position_;
    number.integer = negative ? -static_cast<int64_t>(magnitude)
                              : static_cast<int64_t>(magnitude);
    return number;
  }

  PyValue parseName() {
    size_t start = position_;
    while (position_ < text_.size() &&
           std::isalpha(static_cast<unsigned char>(text_[position_])))
      ++position_;
    std::string_view name = text_.substr(start, position_ - start);
    PyValue value;
    if (name == "True" || name == "False") {
      value.kind = PyValue::Kind::Boolean;
      value.boolean = name == "True";
    } else if (name == "None") {
      value.kind = PyValue::Kind::None;
    } else {
      error("unexpected character");
    }
    return value;
  }

  std::string path_;
  std::string_view text_;
  size_t position_ = 0;
  size_t values_ = 0;
};

} // namespace

PyValue parsePyLiteral(const std::string &path, std::string_view text) {
  return PyLiteralParser(path, text).parseDocument();
}

} // namespace gradc
