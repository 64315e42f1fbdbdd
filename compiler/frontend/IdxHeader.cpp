//===- IdxHeader.cpp - What an IDX data file holds ------------------------===//
//
// IDX: two zero bytes, a type byte (0x08 for unsigned bytes), the number
// of dimensions, then each dimension as a big-endian 32-bit count. zlib's
// gzread reads gzip and plain files alike.
//
//===----------------------------------------------------------------------===//
#include "frontend/IdxHeader.h"

#include <zlib.h>

#include <algorithm>
#include <memory>

namespace gradc {

namespace {
struct GzCloser {
  void operator()(gzFile_s *file) const { gzclose(file); }
};
} // namespace

std::optional<IdxSummary> readIdxSummary(const std::string &path,
                                         bool readValues, std::string &why) {
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) {
    why = "cannot open it";
    return std::nullopt;
  }

  unsigned char magic[4];
  if (gzread(file.get(), magic, 4) != 4 || magic[0] || magic[1] ||
      magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4) {
    why = "it is not an IDX file of unsigned bytes";
    return std::nullopt;
  }

  IdxSummary summary;
  // Four 32-bit dimensions can multiply past 64 bits. `extent` counts a
  // zero dimension as 1, so that any product of the dimensions the caller
  // forms is bounded by it and cannot overflow either.
  int64_t count = 1, extent = 1;
  for (int i = 0; i < magic[3]; ++i) {
    unsigned char bytes[4];
    if (gzread(file.get(), bytes, 4) != 4) {
      why = "its header is cut short";
      return std::nullopt;
    }
    int64_t dim = (int64_t(bytes[0]) << 24) | (bytes[1] << 16) |
                  (bytes[2] << 8) | bytes[3];
    if (std::max<int64_t>(dim, 1) > (int64_t(1) << 62) / extent) {
      why = "its header claims an absurdly large size";
      return std::nullopt;
    }
    extent *= std::max<int64_t>(dim, 1);
    summary.dims.push_back(dim);
    count *= dim;
  }
  if (!readValues)
    return summary;

  std::vector<unsigned char> buffer(1 << 16);
  int64_t seen = 0;
  while (seen < count) {
    int got = gzread(file.get(), buffer.data(),
                     static_cast<unsigned>(buffer.size()));
    if (got <= 0)
      break;
    for (int i = 0; i < got; ++i)
      summary.largestByte = std::max<int>(summary.largestByte, buffer[i]);
    seen += got;
  }
  if (seen < count) {
    why = "it holds fewer values than its header says";
    return std::nullopt;
  }
  return summary;
}

} // namespace gradc
