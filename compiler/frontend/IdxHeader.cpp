//===- IdxHeader.cpp - What an IDX data file holds ------------------------===//
//
// IDX: two zero bytes, a type byte (0x08 for unsigned bytes), the number
// of dimensions, then each dimension as a big-endian 32-bit count. zlib's
// gzread reads gzip and plain files alike.
//
//===----------------------------------------------------------------------===//
#include "frontend/IdxHeader.h"

#include <zlib.h>

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
  int64_t count = 1;
  for (int i = 0; i < magic[3]; ++i) {
    unsigned char bytes[4];
    if (gzread(file.get(), bytes, 4) != 4) {
      why = "its header is cut short";
      return std::nullopt;
    }
    int64_t dim = (int64_t(bytes[0]) << 24) | (bytes[1] << 16) |
                  (bytes[2] << 8) | bytes[3];
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
