//===- IdxHeader.h - What an IDX data file holds ----------------*- C++ -*-===//
//
// The compiler looks into the data files the model names, so that a model
// whose input does not fit its data is refused when it is compiled, not
// half an hour into training. Only headers and labels are read.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_FRONTEND_IDXHEADER_H
#define GRADC_FRONTEND_IDXHEADER_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

struct IdxSummary {
  std::vector<int64_t> dims; // dims[0] counts the items
  int largestByte = -1;      // the largest value, when it was read
};

// Reads the header of an IDX file of bytes (gzip or plain); with
// `readValues`, also reads every value to find the largest. Returns
// nothing when the file is not an IDX file of bytes, with the reason.
std::optional<IdxSummary> readIdxSummary(const std::string &path,
                                         bool readValues, std::string &why);

} // namespace gradc

#endif // GRADC_FRONTEND_IDXHEADER_H
