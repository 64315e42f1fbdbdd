//===- DataHeaders.h - What .npy and CSV data files hold --------*- C++ -*-===//
//
// As IdxHeader.h does for IDX files: the compiler looks at the .npy and
// CSV files a model names, so that data which does not fit the model is
// refused when the model is compiled. Only a .npy file's header and a CSV
// file's first lines are read, however large the file.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_FRONTEND_DATAHEADERS_H
#define GRADC_FRONTEND_DATAHEADERS_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

struct NpySummary {
  std::string descr; // numpy's dtype code, such as "<f4"
  bool isInteger = false;
  std::vector<int64_t> shape;
};

// Reads a .npy header. Returns nothing, with the reason, when the file is
// not a .npy file of a dtype the trainer reads (float32, float64, int32,
// int64, uint8, int8; little-endian, C order) or is shorter than its
// header says.
std::optional<NpySummary> readNpySummary(const std::string &path,
                                         std::string &why);

struct CsvSummary {
  int64_t columns = 0;
  bool hasHeader = false; // the first line holds something not a number
};

// Counts the columns of a CSV file from its first line, and checks that
// the line after a header has as many. Returns nothing, with the reason,
// when the file holds no data row.
std::optional<CsvSummary> readCsvSummary(const std::string &path,
                                         std::string &why);

} // namespace gradc

#endif // GRADC_FRONTEND_DATAHEADERS_H
