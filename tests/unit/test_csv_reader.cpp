// The CSV reader: a header line is skipped when it holds anything but
// numbers, blank lines and Windows line endings are accepted, and every
// malformed row is refused with the file, line and column.
#include "csv_reader.h"

#include "temp_dir.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace {

const std::string kByteOrderMark = "\xef\xbb\xbf";

std::string writeText(const TempDir &dir, const std::string &text) {
  const std::string path = dir.file("data.csv");
  std::ofstream out(path, std::ios::binary);
  out << text;
  return path;
}

void expectFailure(const std::string &text, const std::string &message) {
  TempDir dir;
  const std::string path = writeText(dir, text);
  CHECK_THROWS_WITH(gradc::readCsv(path), Catch::Contains(message));
}

} // namespace

TEST_CASE("a CSV file with a header line", "[csv]") {
  TempDir dir;
  const gradc::CsvTable table = gradc::readCsv(
      writeText(dir, "x1,x2,label\n0.5,-2,1\n\n 3e2 , \"4\" ,0\n"));
  CHECK(table.had_header);
  CHECK(table.rows == 2);
  CHECK(table.columns == 3);
  CHECK(table.values == std::vector<float>{0.5f, -2, 1, 300, 4, 0});
}

TEST_CASE("a CSV file without a header, with CRLF and a BOM", "[csv]") {
  TempDir dir;
  const gradc::CsvTable table =
      gradc::readCsv(writeText(dir, kByteOrderMark + "1,2\r\n3,+4\r\n"));
  CHECK_FALSE(table.had_header);
  CHECK(table.rows == 2);
  CHECK(table.values == std::vector<float>{1, 2, 3, 4});
}

TEST_CASE("a header of pandas' index column counts as a header", "[csv]") {
  TempDir dir;
  const gradc::CsvTable table =
      gradc::readCsv(writeText(dir, ",a,b\n0,1.5,2\n1,2.5,3\n"));
  CHECK(table.had_header);
  CHECK(table.rows == 2);
}

TEST_CASE("malformed CSV rows are refused where they are", "[csv]") {
  expectFailure("a,b\n1,2\n3\n", "data.csv:3: the row has 1 columns, but "
                                 "the first has 2");
  expectFailure("1,2\n3,x\n",
                "data.csv:2: column 1 holds 'x', which is not a number");
  expectFailure("1;2\n3;4\n", "fields are separated by commas");
  expectFailure("1,2\n3,nan\n", "data.csv:2: column 1 holds 'nan', which is "
                                "not a finite float");
  expectFailure("1,2\n3,1e99\n", "which is not a finite float");
  expectFailure("1,2\n3,\n", "column 1 holds '', which is not a number");
}

TEST_CASE("control bytes in a refused cell are quoted escaped", "[csv]") {
  // A terminal escape sequence would reach the terminal, and a NUL would
  // cut the message short where it is printed.
  expectFailure("1,2\n\x1b[31m,2\n", "column 0 holds '\\x1b[31m', which");
  expectFailure(std::string("1,2\na\0b,2\n", 10),
                "column 0 holds 'a\\x00b', which is not a number");
}

TEST_CASE("a CSV file that does not exist", "[csv]") {
  CHECK_THROWS_WITH(gradc::readCsv("/nonexistent/data.csv"),
                    Catch::Contains("/nonexistent/data.csv: no such file"));
}
