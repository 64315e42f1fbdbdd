// Reading IDX files, the MNIST family's format, gzip-compressed or plain.
// The dims in the header are checked against the file's size (or, for a
// gzip file, against what it could possibly inflate to) before memory is
// allocated for the data.
#include "tensor_io.h"

#include "file_io.h"
#include "tensor_shape.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <zlib.h>

namespace gradc {
namespace {

// An IDX dataset larger than this is surely a damaged header.
constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 33;
// Deflate cannot compress better than about 1032 to 1, so a gzip file
// cannot hold more than this many times its own size.
constexpr uint64_t kMaxDeflateRatio = 1032;

const char *idxTypeName(uint8_t type) {
  switch (type) {
  case 0x09:
    return "signed bytes";
  case 0x0b:
    return "16-bit integers";
  case 0x0c:
    return "32-bit integers";
  case 0x0d:
    return "32-bit floats";
  case 0x0e:
    return "64-bit floats";
  default:
    return "an unknown type";
  }
}

// Reads a file's bytes, inflating them when the file is gzip-compressed.
// Gzip members are read one after another, as gzip(1) reads concatenated
// files, and anything else after the last member is refused: zlib's gzread
// would skip such bytes silently, but they mean the file is damaged.
class GzipReader {
public:
  explicit GzipReader(const InputFile &file) : file_(file) {
    uint8_t magic[2] = {};
    gzipped_ =
        file.readSome(0, magic, 2) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (!gzipped_)
      return;
    // 16 + 15: a gzip wrapper around a deflate stream of any window size.
    if (::inflateInit2(&stream_, 16 + 15) != Z_OK)
      fail(file_.path(), "cannot read: out of memory for the gzip reader");
    input_.resize(size_t{1} << 17);
  }

  GzipReader(const GzipReader &) = delete;
  GzipReader &operator=(const GzipReader &) = delete;
  ~GzipReader() {
    if (gzipped_)
      ::inflateEnd(&stream_);
  }

  // Whether the file is gzip-compressed.
  bool gzipped() const { return gzipped_; }

  // Reads up to count bytes and returns how many there were: fewer at the
  // end of the data. Damaged data throws.
  size_t read(void *buffer, size_t count) {
    auto *target = static_cast<unsigned char *>(buffer);
    if (!gzipped_) {
      size_t got = file_.readSome(offset_, target, count);
      offset_ += got;
      return got;
    }
    size_t done = 0;
    while (done < count && !ended_) {
      if (stream_.avail_in == 0 && !refill()) {
        // The file ends inside a member.
        cutShort_ = true;
        break;
      }
      auto room = static_cast<uInt>(
          std::min<size_t>(count - done, std::numeric_limits<uInt>::max()));
      stream_.next_out = target + done;
      stream_.avail_out = room;
      int code = ::inflate(&stream_, Z_NO_FLUSH);
      done += room - stream_.avail_out;
      if (code == Z_STREAM_END)
        ended_ = !startNextMember();
      else if (code != Z_OK && code != Z_BUF_ERROR)
        fail(file_.path(), "gzip data is damaged: {}",
             stream_.msg != nullptr ? stream_.msg : ::zError(code));
    }
    return done;
  }

  // Whether the gzip stream stopped before its end: the file is incomplete.
  bool cutShort() const { return cutShort_; }

private:
  // Moves the unread input to the front and reads more of the file after
  // it; false when the file has nothing more.
  bool refill() {
    std::memmove(input_.data(), stream_.next_in, stream_.avail_in);
    size_t got = file_.readSome(offset_, input_.data() + stream_.avail_in,
                                input_.size() - stream_.avail_in);
    offset_ += got;
    stream_.next_in = input_.data();
    stream_.avail_in += static_cast<uInt>(got);
    return got > 0;
  }

  // After a member's end: true when another member follows, false at the
  // end of the file; other bytes throw.
  bool startNextMember() {
    if (stream_.avail_in < 2)
      refill();
    if (stream_.avail_in == 0)
      return false;
    if (stream_.avail_in >= 2 && stream_.next_in[0] == 0x1f &&
        stream_.next_in[1] == 0x8b) {
      ::inflateReset(&stream_);
      return true;
    }
    fail(file_.path(),
         "{} bytes follow the end of the gzip data; the file is damaged",
         stream_.avail_in + (file_.size() - std::min(offset_, file_.size())));
  }

  const InputFile &file_;
  bool gzipped_ = false;
  z_stream stream_{};
  std::vector<unsigned char> input_;
  uint64_t offset_ = 0; // the file's bytes taken so far
  bool ended_ = false;  // the last member has ended
  bool cutShort_ = false;
};

} // namespace

IdxArray readIdx(const std::string &path) {
  InputFile file(path);
  GzipReader reader(file);
  const bool gzipped = reader.gzipped();

  // Eight bytes, not the four of the magic, are kept for guessFormat.
  uint8_t magic[8] = {};
  size_t magicBytes = reader.read(magic, 4);
  if (magicBytes < 4)
    fail(path, "too short for an IDX file ({} bytes)", magicBytes);
  if (magic[0] != 0 || magic[1] != 0) {
    magicBytes += reader.read(magic + 4, 4);
    fail(path,
         "not an IDX file: it starts with {:02x} {:02x} {:02x} {:02x}, "
         "not 00 00 08 <dims>{}",
         magic[0], magic[1], magic[2], magic[3],
         guessFormat(magic, magicBytes));
  }
  if (magic[2] != 0x08)
    fail(path,
         "IDX data type 0x{:02x} ({}) is not supported; only unsigned bytes "
         "(0x08) are",
         magic[2], idxTypeName(magic[2]));
  int rank = magic[3];
  if (rank < 1 || rank > 4)
    fail(path, "IDX files with {} dims are not supported (1 to 4 are)", rank);

  uint8_t dimBytes[16] = {};
  size_t headerBytes = 4 + 4 * static_cast<size_t>(rank);
  if (reader.read(dimBytes, 4 * rank) != 4 * static_cast<size_t>(rank))
    fail(path, "file ended inside the IDX header of {} dims", rank);
  IdxArray array;
  for (int i = 0; i < rank; ++i) {
    const uint8_t *b = dimBytes + 4 * i;
    uint32_t dim = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 |
                   uint32_t{b[2]} << 8 | uint32_t{b[3]};
    array.dims.push_back(dim);
  }

  uint64_t total = 0;
  if (!countElements(array.dims, &total) || total > kMaxIdxBytes)
    fail(path, "IDX dims {} are too large to be real (over {} bytes)",
         formatDims(array.dims), kMaxIdxBytes);
  if (!gzipped) {
    uint64_t found = file.size() - headerBytes;
    if (found != total)
      fail(path, "expected {} bytes of data, found {} (IDX dims {})", total,
           found, formatDims(array.dims));
  } else if (total > file.size() * kMaxDeflateRatio) {
    fail(path,
         "IDX dims {} need {} bytes, more than a gzip file of {} bytes can "
         "hold",
         formatDims(array.dims), total, file.size());
  }
  checkFitsInMemory(path, total,
                    fmt::format("IDX dims {}", formatDims(array.dims)));

  // The buffer grows with the data that actually arrives, so a gzip file
  // that lies about its dims costs no more memory than it really holds. A
  // plain file's size is already known to match.
  if (!gzipped)
    array.bytes.reserve(total);
  constexpr size_t growthStep = size_t{64} << 20;
  size_t done = 0;
  while (done < total) {
    size_t step = std::min<uint64_t>(growthStep, total - done);
    array.bytes.resize(done + step);
    size_t got = reader.read(array.bytes.data() + done, step);
    done += got;
    if (got < step)
      fail(path, "expected {} bytes of data, found {} (IDX dims {}){}", total,
           done, formatDims(array.dims),
           reader.cutShort() ? "; the gzip file is cut short" : "");
  }

  uint8_t extra = 0;
  if (reader.read(&extra, 1) != 0)
    fail(path, "has more data than its IDX dims {} say ({} bytes)",
         formatDims(array.dims), total);
  if (reader.cutShort())
    fail(path, "the gzip file is cut short: its data is all there, but its "
               "end is missing");
  return array;
}

} // namespace gradc
