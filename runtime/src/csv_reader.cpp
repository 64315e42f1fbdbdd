// See csv_reader.h. Numbers are parsed with std::from_chars, which does
// not depend on the C locale, so "0.5" reads the same everywhere.
#include "csv_reader.h"

#include <gradc/printable.h>

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <string_view>

namespace gradc {

namespace {

// A row longer than this is not a row of features but a damaged file or
// one without line breaks.
constexpr size_t kMaxLineBytes = size_t{16} << 20;

std::string_view trimmed(std::string_view field) {
  const size_t first = field.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  const size_t last = field.find_last_not_of(" \t");
  field = field.substr(first, last - first + 1);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"')
    field = field.substr(1, field.size() - 2);
  return field;
}

// The field as a float; false when it is not a number at all.
bool parseNumber(std::string_view field, float &value) {
  if (field.size() > 1 && field[0] == '+')
    field.remove_prefix(1);
  const char *end = field.data() + field.size();
  const auto [stop, status] = std::from_chars(field.data(), end, value);
  // A number too large for a float is still a number; it is caught as
  // not finite below rather than called text.
  if (status == std::errc::result_out_of_range && stop == end) {
    value = INFINITY;
    return true;
  }
  return !field.empty() && status == std::errc() && stop == end;
}

// The fields of one line.
std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields.push_back(trimmed(line.substr(
        start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos)
      return fields;
    start = comma + 1;
  }
}

bool isHeader(const std::vector<std::string_view> &fields) {
  float ignored = 0;
  for (std::string_view field : fields)
    if (!parseNumber(field, ignored))
      return true;
  return false;
}

} // namespace

CsvTable readCsv(const std::string &path) {
  // A FIFO would block the open below forever.
  checkInputFile(path);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw IoError(fmt::format("{}: cannot open it", path));

  CsvTable table;
  std::string line;
  int64_t number = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++number;
    if (line.size() > kMaxLineBytes)
      throw IoError(
          fmt::format("{}:{}: the line is longer than 16 MiB", path, number));
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    // A byte order mark, as spreadsheet programs write, is not data.
    if (number == 1 && line.compare(0, 3, "\xef\xbb\xbf") == 0)
      line.erase(0, 3);
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;

    const std::vector<std::string_view> fields = splitFields(line);
    const auto count = static_cast<int64_t>(fields.size());
    if (first) {
      first = false;
      table.columns = count;
      if (isHeader(fields)) {
        table.had_header = true;
        continue;
      }
    }
    if (count != table.columns)
      throw IoError(fmt::format("{}:{}: the row has {} columns, but the first "
                                "has {}",
                                path, number, count, table.columns));
    // Checked whenever the table is about to grow, which it does by
    // doubling, so that a huge file stops here and not in the allocator.
    const size_t needed = table.values.size() + fields.size();
    if (needed > table.values.capacity())
      checkFitsInMemory(path, uint64_t{needed} * 2 * sizeof(float),
                        fmt::format("the {} rows so far", table.rows + 1));
    // A refused cell is escaped where it is quoted, not only where the
    // message is printed: a NUL in it would end the exception's text.
    for (size_t column = 0; column < fields.size(); ++column) {
      float value = 0;
      if (!parseNumber(fields[column], value))
        throw IoError(fmt::format("{}:{}: column {} holds '{}', which is not "
                                  "a number (fields are separated by commas)",
                                  path, number, column,
                                  printable(fields[column])));
      if (!std::isfinite(value))
        throw IoError(fmt::format("{}:{}: column {} holds '{}', which is not "
                                  "a finite float",
                                  path, number, column,
                                  printable(fields[column])));
      table.values.push_back(value);
    }
    ++table.rows;
  }
  if (in.bad())
    throw IoError(fmt::format("{}: reading failed", path));
  return table;
}

} // namespace gradc
