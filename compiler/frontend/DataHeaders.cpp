//===- DataHeaders.cpp - What .npy and CSV data files hold ----------------===//
//
// A .npy file is the magic "\x93NUMPY", a version, the length of a header
// and the header itself: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }
// which is all this reads. numpy writes the keys in that form, so plain
// scanning for them is enough here; the trainer parses the header fully
// when it loads the data.
//
// A CSV file's fields are separated by commas; the first line is a header
// when one of its fields is not a number. The trainer's reader
// (runtime/src/csv_reader.cpp) applies the same rule.
//
//===----------------------------------------------------------------------===//
#include "frontend/DataHeaders.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>

namespace gradc {

namespace {

// numpy's headers are a few hundred bytes; a multi-megabyte one is not
// a file numpy wrote.
constexpr uint64_t MaxNpyHeaderBytes = 1 << 20;

// Lines longer than this are not rows of features.
constexpr size_t MaxCsvLineBytes = 16 << 20;

int64_t itemSize(const std::string &descr) {
  static const std::pair<const char *, int64_t> Known[] = {
      {"<f4", 4}, {"<f8", 8}, {"<i4", 4}, {"<i8", 8}, {"|u1", 1}, {"|i1", 1},
      {"<u1", 1}, {"<i1", 1}, {"=f4", 4}, {"=f8", 8}, {"=i4", 4}, {"=i8", 8}};
  for (const auto &[code, size] : Known)
    if (descr == code)
      return size;
  return 0;
}

// The text after `'key':`, with spaces skipped, or npos.
size_t valueOf(const std::string &header, const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return at;
  at = header.find(':', at);
  if (at == std::string::npos)
    return at;
  return header.find_first_not_of(' ', at + 1);
}

bool parseShape(const std::string &header, size_t at,
                std::vector<int64_t> &shape) {
  if (at == std::string::npos || header[at] != '(')
    return false;
  size_t end = header.find(')', at);
  if (end == std::string::npos)
    return false;
  const char *cursor = header.data() + at + 1;
  const char *stop = header.data() + end;
  while (cursor < stop) {
    while (cursor < stop && (*cursor == ' ' || *cursor == ','))
      ++cursor;
    if (cursor == stop)
      break;
    int64_t dim = 0;
    auto [next, status] = std::from_chars(cursor, stop, dim);
    if (status != std::errc() || dim < 0)
      return false;
    shape.push_back(dim);
    cursor = next;
  }
  return true;
}

std::string trimmed(std::string_view field) {
  size_t first = field.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return "";
  size_t last = field.find_last_not_of(" \t");
  field = field.substr(first, last - first + 1);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"')
    field = field.substr(1, field.size() - 2);
  return std::string(field);
}

bool isNumber(const std::string &field) {
  double value = 0;
  const char *begin = field.data() + (field.size() > 1 && field[0] == '+');
  const char *end = field.data() + field.size();
  auto [stop, status] = std::from_chars(begin, end, value);
  // A number too large for a double is still a number, not a header.
  return !field.empty() && stop == end &&
         (status == std::errc() || status == std::errc::result_out_of_range);
}

struct CsvLine {
  int64_t fields = 0;
  bool allNumbers = true;
};

CsvLine splitLine(const std::string &line) {
  CsvLine result;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    std::string field = trimmed(std::string_view(line).substr(
        start, comma == std::string::npos ? std::string::npos : comma - start));
    ++result.fields;
    result.allNumbers = result.allNumbers && isNumber(field);
    if (comma == std::string::npos)
      return result;
    start = comma + 1;
  }
}

// The next line that is not blank, without its line ending; false at the
// end of the file or at a line too long to be a row.
bool nextLine(std::istream &in, std::string &line, bool &tooLong) {
  while (std::getline(in, line)) {
    if (line.size() > MaxCsvLineBytes) {
      tooLong = true;
      return false;
    }
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos)
      return true;
  }
  return false;
}

} // namespace

std::optional<NpySummary> readNpySummary(const std::string &path,
                                         std::string &why) {
  std::ifstream in(path, std::ios::binary);
  unsigned char preamble[12] = {};
  in.read(reinterpret_cast<char *>(preamble), 10);
  if (!in ||
      std::string(reinterpret_cast<char *>(preamble), 6) != "\x93NUMPY") {
    why = "it is not a .npy file";
    return std::nullopt;
  }
  int major = preamble[6];
  uint64_t headerBytes = preamble[8] | (uint64_t(preamble[9]) << 8);
  uint64_t preambleBytes = 10;
  if (major == 2 || major == 3) {
    in.read(reinterpret_cast<char *>(preamble + 10), 2);
    headerBytes |=
        (uint64_t(preamble[10]) << 16) | (uint64_t(preamble[11]) << 24);
    preambleBytes = 12;
  } else if (major != 1) {
    why = "it is a .npy file of version " + std::to_string(major) +
          ", which the trainer does not read";
    return std::nullopt;
  }
  if (!in || headerBytes > MaxNpyHeaderBytes) {
    why = "its .npy header is damaged";
    return std::nullopt;
  }
  std::string header(headerBytes, '\0');
  in.read(header.data(), static_cast<std::streamsize>(headerBytes));
  if (!in) {
    why = "its .npy header is cut short";
    return std::nullopt;
  }

  NpySummary summary;
  size_t descr = valueOf(header, "descr");
  size_t close =
      descr == std::string::npos ? descr : header.find('\'', descr + 1);
  if (descr == std::string::npos || header[descr] != '\'' ||
      close == std::string::npos) {
    why = "its .npy header names no dtype";
    return std::nullopt;
  }
  summary.descr = header.substr(descr + 1, close - descr - 1);
  int64_t size = itemSize(summary.descr);
  if (size == 0) {
    why = "its dtype '" + summary.descr +
          "' is not one the trainer reads (float32, float64, int32, int64, "
          "uint8 or int8, little-endian)";
    return std::nullopt;
  }
  summary.isInteger = summary.descr[1] != 'f';

  size_t order = valueOf(header, "fortran_order");
  if (order == std::string::npos || header.compare(order, 5, "False") != 0) {
    why = "it is not in C order; save it with "
          "np.save(path, np.ascontiguousarray(array))";
    return std::nullopt;
  }
  if (!parseShape(header, valueOf(header, "shape"), summary.shape)) {
    why = "its .npy header has no readable shape";
    return std::nullopt;
  }

  // The data must be there; the product is bounded as it grows so that a
  // header claiming an absurd shape cannot overflow it.
  std::error_code error;
  uint64_t fileBytes = std::filesystem::file_size(path, error);
  uint64_t dataBytes = static_cast<uint64_t>(size);
  for (int64_t dim : summary.shape) {
    if (dim != 0 &&
        dataBytes > std::numeric_limits<uint64_t>::max() / 2 / dim) {
      why = "its header claims an absurdly large size";
      return std::nullopt;
    }
    dataBytes *= static_cast<uint64_t>(dim);
  }
  if (error || fileBytes < preambleBytes + headerBytes + dataBytes) {
    why = "it holds fewer values than its header says";
    return std::nullopt;
  }
  return summary;
}

std::optional<CsvSummary> readCsvSummary(const std::string &path,
                                         std::string &why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open it";
    return std::nullopt;
  }
  std::string line;
  bool tooLong = false;
  if (!nextLine(in, line, tooLong)) {
    why = tooLong ? "its first line is longer than 16 MiB" : "it is empty";
    return std::nullopt;
  }
  // A byte order mark, as spreadsheet programs write, is not data.
  if (line.compare(0, 3, "\xef\xbb\xbf") == 0)
    line.erase(0, 3);

  CsvSummary summary;
  CsvLine first = splitLine(line);
  summary.columns = first.fields;
  if (first.allNumbers)
    return summary;

  summary.hasHeader = true;
  if (!nextLine(in, line, tooLong)) {
    why = tooLong ? "its second line is longer than 16 MiB"
                  : "it holds a header line but no data";
    return std::nullopt;
  }
  CsvLine row = splitLine(line);
  if (row.fields != summary.columns) {
    why = "its header line has " + std::to_string(summary.columns) +
          " columns but the row after it has " + std::to_string(row.fields);
    return std::nullopt;
  }
  return summary;
}

} // namespace gradc
