// Reading a table of numbers from a CSV file: one sample a row, fields
// separated by commas, blank lines ignored, and a first line that holds
// anything other than numbers (column names) skipped as a header. The
// compiler's check of a model's data (compiler/frontend/DataHeaders.cpp)
// applies the same rule to the first lines. Failures throw IoError naming
// the file, the line and the column.
#ifndef GRADC_RUNTIME_CSV_READER_H
#define GRADC_RUNTIME_CSV_READER_H

#include "tensor_io.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

struct CsvTable {
  int64_t rows = 0;
  int64_t columns = 0;
  bool had_header = false;
  std::vector<float> values; // rows * columns, row by row
};

// Reads every row; each must have as many fields as the first, and each
// field must be a finite number (surrounding spaces and double quotes are
// allowed).
CsvTable readCsv(const std::string &path);

} // namespace gradc

#endif // GRADC_RUNTIME_CSV_READER_H
