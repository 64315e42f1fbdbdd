// The trainer's file formats: IDX datasets (gzip or plain), .npy arrays and
// safetensors checkpoints, read defensively and written atomically. Every
// size a file declares is checked against the file before memory is
// allocated for it, so a damaged or hostile file ends in an IoError rather
// than a crash, a hang or a huge allocation.
#include "tensor_io.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

// Every format here stores its numbers little-endian, and so does every
// target gradc supports; tensor data is therefore copied without swapping.
static_assert(std::endian::native == std::endian::little,
              "tensor_io assumes a little-endian host");

namespace gradc {
namespace {

using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;

// An IDX dataset larger than this is surely a damaged header.
constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 33;
// Deflate cannot compress better than about 1032 to 1, so a gzip file
// cannot hold more than this many times its own size.
constexpr uint64_t kMaxDeflateRatio = 1032;
// The limit the safetensors library itself puts on its JSON header.
constexpr uint64_t kMaxSafeTensorsHeaderBytes = 100'000'000;
// A real safetensors header is three levels deep and has a handful of JSON
// values per tensor; these bounds keep a hostile header from turning a
// 100 MB text into gigabytes of parsed JSON.
constexpr size_t kMaxHeaderDepth = 8;
constexpr size_t kMaxHeaderValues = 4'000'000;
// Far more tensors than any model has; the bound keeps a header of tiny
// entries from costing more than a moment.
constexpr size_t kMaxTensors = 100'000;
// numpy's own limit on the number of dimensions.
constexpr size_t kMaxRank = 64;
// numpy refuses headers over 10000 bytes unless told otherwise; nothing
// this reader accepts comes near this more lenient bound.
constexpr uint64_t kMaxNpyHeaderBytes = 1'000'000;
// Data is read and converted this many bytes at a time.
constexpr size_t kChunkBytes = size_t{1} << 20;

template <typename... Args>
[[noreturn]] void fail(const std::string &path,
                       fmt::format_string<Args...> format, Args &&...args) {
  throw IoError(fmt::format("{}: {}", path,
                            fmt::format(format, std::forward<Args>(args)...)));
}

std::string describeOpenError(const std::string &path, int error) {
  if (error == EACCES)
    return "permission denied";
  if (error != ENOENT)
    return std::strerror(error);

  // A missing file is most often a typo or a run from another folder, so
  // the message says where a relative path was looked for and points at
  // the compressed or uncompressed twin when only that one exists.
  std::string message = "no such file";
  std::error_code ignored;
  std::string_view gzSuffix = ".gz";
  if (path.ends_with(gzSuffix)) {
    std::string plain = path.substr(0, path.size() - gzSuffix.size());
    if (std::filesystem::exists(plain, ignored))
      return message + fmt::format(" (did you mean {}?)", plain);
  } else if (std::filesystem::exists(path + ".gz", ignored)) {
    return message + fmt::format(" (did you mean {}.gz?)", path);
  }
  if (std::filesystem::path(path).is_relative()) {
    auto folder = std::filesystem::current_path(ignored);
    if (!ignored)
      message += fmt::format(" (relative to {})", folder.string());
  }
  return message;
}

// Names the format a file really has when it is not the one expected,
// because handing the wrong file to an option is the common mistake.
std::string guessFormat(const uint8_t *bytes, size_t size) {
  auto startsWith = [&](std::string_view magic) {
    return size >= magic.size() &&
           std::memcmp(bytes, magic.data(), magic.size()) == 0;
  };
  if (startsWith("\x1f\x8b"))
    return " (it is gzip-compressed; gunzip it first)";
  if (startsWith("PK\x03\x04"))
    return " (it is a zip archive, such as a PyTorch .pt/.bin file or an "
           ".npz; extract the arrays or save them as .npy or safetensors)";
  if (startsWith("\x93NUMPY"))
    return " (it is a .npy file; pass it with --train-x/--train-y)";
  if (startsWith("\x89HDF"))
    return " (it is an HDF5 file)";
  if (size >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] >= 0x08 &&
      bytes[2] <= 0x0e && bytes[3] >= 1 && bytes[3] <= 4)
    return " (it is an IDX file; pass it with --train-images/--train-labels)";
  if (startsWith("<") || startsWith("\xef\xbb\xbf<"))
    return " (it looks like an HTML page, perhaps a failed download)";
  return "";
}

// What a file that is not a regular one is, for messages.
std::string kindOfFile(mode_t mode) {
  if (S_ISDIR(mode))
    return "a folder";
  if (S_ISFIFO(mode))
    return "a FIFO (named pipe)";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "a device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

// A pipe or device has no size to check against, and reading one could
// block or never end.
[[noreturn]] void refuseInput(const std::string &path, mode_t mode) {
  if (S_ISDIR(mode))
    fail(path, "is a folder, not a file");
  fail(path, "is {}, not a regular file; give a file", kindOfFile(mode));
}

// Half of the machine's memory: a data set that needs more leaves no room
// for the model, and a file that claims more is far more often damaged
// than real. Refusing it up front beats being killed half way through.
uint64_t memoryBudget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(pages) / 2 * static_cast<uint64_t>(pageSize);
}

// A regular file opened for reading, whose size is known up front so that
// every size read from it can be checked before anything is allocated.
class InputFile {
public:
  explicit InputFile(std::string path) : path_(std::move(path)) {
    // Opening a FIFO blocks until a writer comes, so the kind of file is
    // checked first, and the open cannot block either (O_NONBLOCK) in case
    // the path changes in between; fstat then checks what was opened.
    // O_NONBLOCK changes nothing for the reads of a regular file.
    checkInputFile(path_);
    descriptor_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (descriptor_ < 0)
      fail(path_, "{}", describeOpenError(path_, errno));

    struct stat status {};
    if (::fstat(descriptor_, &status) != 0) {
      int error = errno;
      ::close(descriptor_);
      fail(path_, "cannot read: {}", std::strerror(error));
    }
    if (!S_ISREG(status.st_mode)) {
      ::close(descriptor_);
      refuseInput(path_, status.st_mode);
    }
    size_ = static_cast<uint64_t>(status.st_size);
  }

  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;
  ~InputFile() { ::close(descriptor_); }

  const std::string &path() const { return path_; }
  uint64_t size() const { return size_; }

  // Reads up to count bytes at offset and returns how many there were.
  size_t readSome(uint64_t offset, void *buffer, size_t count) const {
    auto *target = static_cast<char *>(buffer);
    size_t done = 0;
    while (done < count) {
      ssize_t got = ::pread(descriptor_, target + done, count - done,
                            static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        fail(path_, "cannot read: {}", std::strerror(errno));
      if (got == 0)
        break;
      done += static_cast<size_t>(got);
    }
    return done;
  }

  // Reads exactly count bytes; only a file that shrinks while it is being
  // read gets here short, since sizes are checked before reading.
  void readExactly(uint64_t offset, void *buffer, size_t count) const {
    size_t got = readSome(offset, buffer, count);
    if (got != count)
      fail(path_, "file ended early: expected {} bytes at offset {}, found {}",
           count, offset, got);
  }

private:
  std::string path_;
  int descriptor_ = -1;
  uint64_t size_ = 0;
};

// Multiplies dims into an element count, or returns false when the count
// does not fit in 64 bits. A zero dim makes any product zero.
bool countElements(const std::vector<int64_t> &dims, uint64_t *count) {
  uint64_t product = 1;
  bool overflowed = false;
  for (int64_t dim : dims) {
    if (dim == 0) {
      *count = 0;
      return true;
    }
    auto factor = static_cast<uint64_t>(dim);
    if (product > std::numeric_limits<uint64_t>::max() / factor)
      overflowed = true;
    else
      product *= factor;
  }
  *count = product;
  return !overflowed;
}

// Reads count values stored as Source at offset and converts each into
// Target, a chunk at a time so that no second copy of the data is held.
template <typename Source, typename Target, typename Convert>
void readConverted(const InputFile &file, uint64_t offset, size_t count,
                   Target *output, Convert convert) {
  constexpr size_t chunkValues = kChunkBytes / sizeof(Source);
  std::vector<Source> chunk(std::min(count, chunkValues));
  for (size_t done = 0; done < count;) {
    size_t values = std::min(chunkValues, count - done);
    file.readExactly(offset + done * sizeof(Source), chunk.data(),
                     values * sizeof(Source));
    for (size_t i = 0; i < values; ++i)
      output[done + i] = convert(chunk[i]);
    done += values;
  }
}

std::string formatDims(const std::vector<int64_t> &dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

// IDX ----------------------------------------------------------------------

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

void checkInputFile(const std::string &path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0)
    fail(path, "{}", describeOpenError(path, errno));
  if (!S_ISREG(status.st_mode))
    refuseInput(path, status.st_mode);
}

void checkOutputFile(const std::string &path) {
  // A path that does not exist yet, or cannot be looked at, is left to the
  // open that follows, which says what is wrong with it.
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0 || S_ISREG(status.st_mode))
    return;
  if (S_ISDIR(status.st_mode))
    fail(path, "is a folder; give a file name");
  fail(path, "is {}, not a regular file; refusing to write over it",
       kindOfFile(status.st_mode));
}

void checkFitsInMemory(const std::string &path, uint64_t bytes,
                       const std::string &what) {
  const uint64_t budget = memoryBudget();
  if (bytes <= budget)
    return;
  constexpr double gib = 1024.0 * 1024.0 * 1024.0;
  fail(path,
       "{} need {:.1f} GiB of memory, more than half of the {:.1f} GiB this "
       "machine has; the file is damaged, or too large to train from here",
       what, static_cast<double>(bytes) / gib,
       static_cast<double>(budget) * 2 / gib);
}

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

// .npy -----------------------------------------------------------------------

namespace {

// A value in the Python literal that makes up a .npy header.
struct PyValue {
  enum class Kind { String, Boolean, None, Integer, Sequence, Dict };
  Kind kind = Kind::None;
  std::string text;
  bool boolean = false;
  int64_t integer = 0;
  std::vector<PyValue> items;
  std::vector<std::pair<std::string, PyValue>> entries;
};

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

enum class NpyType { Float32, Float64, Int32, Int64, UInt8, Int8 };

struct NpyHeader {
  NpyType type = NpyType::Float32;
  std::string descr;
  std::vector<int64_t> shape;
  size_t count = 0;
  uint64_t dataOffset = 0;
};

const char *npyTypeName(NpyType type) {
  switch (type) {
  case NpyType::Float32:
    return "float32";
  case NpyType::Float64:
    return "float64";
  case NpyType::Int32:
    return "int32";
  case NpyType::Int64:
    return "int64";
  case NpyType::UInt8:
    return "uint8";
  case NpyType::Int8:
    return "int8";
  }
  return "unknown";
}

size_t npyItemSize(NpyType type) {
  switch (type) {
  case NpyType::Float32:
  case NpyType::Int32:
    return 4;
  case NpyType::Float64:
  case NpyType::Int64:
    return 8;
  case NpyType::UInt8:
  case NpyType::Int8:
    return 1;
  }
  return 1;
}

NpyType parseNpyDescr(const std::string &path, const std::string &descr) {
  constexpr std::string_view supported =
      "supported: '<f4' float32, '<f8' float64, '<i4' int32, '<i8' int64, "
      "'|u1' uint8, '|i1' int8";
  if (descr.size() == 3) {
    char order = descr[0];
    std::string_view code = std::string_view(descr).substr(1);
    bool singleByte = code == "u1" || code == "i1";
    if (singleByte &&
        (order == '|' || order == '<' || order == '>' || order == '='))
      return code == "u1" ? NpyType::UInt8 : NpyType::Int8;
    if (order == '>' &&
        (code == "f4" || code == "f8" || code == "i4" || code == "i8"))
      fail(path,
           "dtype '{}' is big-endian; save it little-endian, e.g. with "
           "array.astype('<{}')",
           descr, code);
    if (order == '<' || order == '=') {
      if (code == "f4")
        return NpyType::Float32;
      if (code == "f8")
        return NpyType::Float64;
      if (code == "i4")
        return NpyType::Int32;
      if (code == "i8")
        return NpyType::Int64;
    }
  }
  fail(path, "dtype '{}' is not supported ({})", descr, supported);
}

const PyValue *findEntry(const PyValue &dict, std::string_view key) {
  const PyValue *found = nullptr;
  for (const auto &[name, value] : dict.entries)
    if (name == key)
      found = &value;
  return found;
}

NpyHeader readNpyHeader(const InputFile &file) {
  const std::string &path = file.path();
  uint8_t preamble[12] = {};
  size_t got = file.readSome(0, preamble, sizeof preamble);
  if (got < 6)
    fail(path, "too short to be a .npy file ({} bytes){}", got,
         guessFormat(preamble, got));
  if (std::memcmp(preamble, "\x93NUMPY", 6) != 0)
    fail(path, "not a .npy file: it does not start with \\x93NUMPY{}",
         guessFormat(preamble, got));
  if (got < 10)
    fail(path, "file ended inside the .npy preamble");

  int major = preamble[6];
  int minor = preamble[7];
  if (major < 1 || major > 3 || minor != 0)
    fail(path,
         ".npy format version {}.{} is not supported (1.0, 2.0 and 3.0 "
         "are)",
         major, minor);
  uint64_t headerLength = 0;
  uint64_t preambleLength = 10;
  if (major == 1) {
    headerLength = uint64_t{preamble[8]} | uint64_t{preamble[9]} << 8;
  } else {
    if (got < 12)
      fail(path, "file ended inside the .npy preamble");
    preambleLength = 12;
    for (int i = 3; i >= 0; --i)
      headerLength = headerLength << 8 | preamble[8 + i];
  }
  if (headerLength > kMaxNpyHeaderBytes)
    fail(path,
         "the .npy header says it is {} bytes long, over the {} bytes "
         "a header of a numeric array can need",
         headerLength, kMaxNpyHeaderBytes);
  if (headerLength > file.size() - preambleLength)
    fail(path,
         "the .npy header says it is {} bytes long, but only {} bytes "
         "follow",
         headerLength, file.size() - preambleLength);

  std::string text(headerLength, '\0');
  file.readExactly(preambleLength, text.data(), text.size());
  PyValue dict = PyLiteralParser(path, text).parseDocument();
  if (dict.kind != PyValue::Kind::Dict)
    fail(path, "malformed .npy header: it is not a dict");
  const PyValue *descr = findEntry(dict, "descr");
  const PyValue *fortranOrder = findEntry(dict, "fortran_order");
  const PyValue *shape = findEntry(dict, "shape");
  if (descr == nullptr || fortranOrder == nullptr || shape == nullptr)
    fail(path, "malformed .npy header: it needs 'descr', 'fortran_order' and "
               "'shape'");

  NpyHeader header;
  if (descr->kind == PyValue::Kind::Sequence)
    fail(path, "structured dtypes (records) are not supported; save a plain "
               "numeric array");
  if (descr->kind != PyValue::Kind::String)
    fail(path, "malformed .npy header: 'descr' is not a string");
  header.descr = descr->text;
  header.type = parseNpyDescr(path, descr->text);
  if (fortranOrder->kind != PyValue::Kind::Boolean)
    fail(path, "malformed .npy header: 'fortran_order' is not True or False");
  if (fortranOrder->boolean)
    fail(path, "the array is in Fortran order; save it in C order, e.g. with "
               "np.save(path, np.ascontiguousarray(array))");
  if (shape->kind != PyValue::Kind::Sequence)
    fail(path, "malformed .npy header: 'shape' is not a tuple");
  if (shape->items.size() > kMaxRank)
    fail(path, "the array has {} dims, more than the {} numpy allows",
         shape->items.size(), kMaxRank);
  for (const PyValue &dim : shape->items) {
    if (dim.kind != PyValue::Kind::Integer)
      fail(path, "malformed .npy header: 'shape' holds something other than "
                 "integers");
    if (dim.integer < 0)
      fail(path, "malformed .npy header: negative dim {} in 'shape'",
           dim.integer);
    header.shape.push_back(dim.integer);
  }

  // Data follows the header directly and must fill the rest of the file.
  header.dataOffset = preambleLength + headerLength;
  uint64_t available = file.size() - header.dataOffset;
  uint64_t count = 0;
  size_t itemSize = npyItemSize(header.type);
  if (!countElements(header.shape, &count) ||
      count > std::numeric_limits<uint64_t>::max() / itemSize)
    fail(path, "shape {} is too large to be real, found {} bytes of data",
         formatDims(header.shape), available);
  uint64_t expected = count * itemSize;
  if (expected != available)
    fail(path, "expected {} bytes of data, found {} (shape {}, {})", expected,
         available, formatDims(header.shape), npyTypeName(header.type));
  header.count = static_cast<size_t>(count);
  return header;
}

} // namespace

HostTensor readNpy(const std::string &path) {
  InputFile file(path);
  NpyHeader header = readNpyHeader(file);
  checkFitsInMemory(path, uint64_t{header.count} * sizeof(float),
                    fmt::format("its {} values (shape {})", header.count,
                                formatDims(header.shape)));

  HostTensor tensor;
  tensor.shape = header.shape;
  tensor.data.resize(header.count);
  float *output = tensor.data.data();
  uint64_t offset = header.dataOffset;
  size_t count = header.count;
  auto toFloat = [](auto value) { return static_cast<float>(value); };
  switch (header.type) {
  case NpyType::Float32:
    file.readExactly(offset, output, count * sizeof(float));
    break;
  case NpyType::Float64:
    readConverted<double>(file, offset, count, output, toFloat);
    break;
  case NpyType::Int32:
    readConverted<int32_t>(file, offset, count, output, toFloat);
    break;
  case NpyType::Int64:
    readConverted<int64_t>(file, offset, count, output, toFloat);
    break;
  case NpyType::UInt8:
    readConverted<uint8_t>(file, offset, count, output, toFloat);
    break;
  case NpyType::Int8:
    readConverted<int8_t>(file, offset, count, output, toFloat);
    break;
  }

  // A NaN or infinity in the data would surface only as a non-finite loss
  // steps later, far from the file that holds it.
  const auto finite = [](float value) { return std::isfinite(value); };
  const auto bad =
      std::find_if_not(tensor.data.begin(), tensor.data.end(), finite);
  if (bad != tensor.data.end())
    fail(path, "holds {} at flat index {}{}; the data must be finite", *bad,
         bad - tensor.data.begin(),
         header.type == NpyType::Float64 && std::isinf(*bad)
             ? " (or a float64 beyond float32's range)"
             : "");
  return tensor;
}

std::vector<int32_t> readNpyLabels(const std::string &path,
                                   std::vector<int64_t> *shape) {
  InputFile file(path);
  NpyHeader header = readNpyHeader(file);
  if (header.type == NpyType::Float32 || header.type == NpyType::Float64)
    fail(path,
         "class labels must be integers, found {} ('{}'); convert them, "
         "e.g. with labels.astype('int64')",
         npyTypeName(header.type), header.descr);

  checkFitsInMemory(path, uint64_t{header.count} * sizeof(int32_t),
                    fmt::format("its {} labels", header.count));
  std::vector<int32_t> labels(header.count);
  uint64_t offset = header.dataOffset;
  size_t count = header.count;
  auto same = [](auto value) { return static_cast<int32_t>(value); };
  switch (header.type) {
  case NpyType::Int32:
    file.readExactly(offset, labels.data(), count * sizeof(int32_t));
    break;
  case NpyType::Int64: {
    // Converted one chunk at a time like the other types, but each value is
    // checked first, since a label that does not fit in int32 is corrupt.
    size_t index = 0;
    auto checked = [&](int64_t value) {
      if (value < std::numeric_limits<int32_t>::min() ||
          value > std::numeric_limits<int32_t>::max())
        fail(path, "label {} at index {} does not fit in int32", value, index);
      ++index;
      return static_cast<int32_t>(value);
    };
    readConverted<int64_t>(file, offset, count, labels.data(), checked);
    break;
  }
  case NpyType::UInt8:
    readConverted<uint8_t>(file, offset, count, labels.data(), same);
    break;
  case NpyType::Int8:
    readConverted<int8_t>(file, offset, count, labels.data(), same);
    break;
  case NpyType::Float32:
  case NpyType::Float64:
    break;
  }

  if (shape != nullptr)
    *shape = header.shape;
  return labels;
}

// Atomic writes -------------------------------------------------------------

namespace {

// Writes a temporary file next to path and renames it over path on commit,
// so that readers and a crash see either the old file whole or the new one
// whole. A writer destroyed before commit removes its temporary file.
class AtomicFileWriter {
public:
  explicit AtomicFileWriter(std::string path) : path_(std::move(path)) {
    checkOutputFile(path_);
    // mkostemps makes a new file of a name no one can predict (O_EXCL), so
    // a link planted at a fixed temporary name cannot redirect the write.
    // The name ends in .tmp, so that one left by a crash is recognizable.
    std::string pattern = path_ + ".XXXXXX.tmp";
    descriptor_ = ::mkostemps(pattern.data(), 4, O_CLOEXEC);
    if (descriptor_ < 0) {
      int error = errno;
      std::string reason = std::strerror(error);
      if (error == ENOENT)
        reason = fmt::format("the folder {} does not exist",
                             folderOf(path_).string());
      else if (error == EACCES)
        reason = "permission denied";
      fail(path_, "cannot create a temporary file next to it: {}", reason);
    }
    temporaryPath_ = pattern;
    // mkostemps creates the file for its owner alone; the file being
    // replaced was created as open(2) creates files, 0666 less the umask.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(descriptor_, 0666 & ~mask);
  }

  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

  ~AtomicFileWriter() {
    if (descriptor_ >= 0)
      ::close(descriptor_);
    if (!committed_)
      ::unlink(temporaryPath_.c_str());
  }

  void write(const void *data, size_t size) {
    const auto *source = static_cast<const char *>(data);
    while (size > 0) {
      ssize_t written = ::write(descriptor_, source, size);
      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        fail(path_, "cannot write {}: {}", temporaryPath_,
             std::strerror(errno));
      source += written;
      size -= static_cast<size_t>(written);
    }
  }

  void commit() {
    // The data must be on disk before the rename makes it the file at
    // path; otherwise a crash could leave the new name on empty blocks.
    if (::fsync(descriptor_) != 0)
      fail(path_, "cannot flush {}: {}", temporaryPath_, std::strerror(errno));
    int descriptor = std::exchange(descriptor_, -1);
    if (::close(descriptor) != 0)
      fail(path_, "cannot write {}: {}", temporaryPath_, std::strerror(errno));
    if (::rename(temporaryPath_.c_str(), path_.c_str()) != 0)
      fail(path_, "cannot replace it with {}: {}", temporaryPath_,
           std::strerror(errno));
    committed_ = true;

    // The rename itself lives in the folder, which is flushed so that it
    // survives a power cut. Some file systems refuse to flush a folder;
    // the file is in place by now, so that is not an error.
    int folder =
        ::open(folderOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (folder >= 0) {
      ::fsync(folder);
      ::close(folder);
    }
  }

private:
  static std::filesystem::path folderOf(const std::string &path) {
    std::filesystem::path folder = std::filesystem::path(path).parent_path();
    return folder.empty() ? std::filesystem::path(".") : folder;
  }

  std::string path_;
  std::string temporaryPath_;
  int descriptor_ = -1;
  bool committed_ = false;
};

// Checks that a tensor's data matches its shape and returns its size.
size_t checkedCount(const std::string &path, const std::string &name,
                    const HostTensor &tensor) {
  for (int64_t dim : tensor.shape)
    if (dim < 0)
      fail(path, "{} has a negative dim in shape {}", name,
           formatDims(tensor.shape));
  uint64_t count = 0;
  if (!countElements(tensor.shape, &count) || count != tensor.data.size())
    fail(path, "{} has shape {} but holds {} values", name,
         formatDims(tensor.shape), tensor.data.size());
  return tensor.data.size();
}

} // namespace

void writeFileAtomically(const std::string &path, const std::string &contents) {
  AtomicFileWriter writer(path);
  writer.write(contents.data(), contents.size());
  writer.commit();
}

void writeNpy(const std::string &path, const HostTensor &tensor) {
  size_t count = checkedCount(path, "the array", tensor);

  // numpy writes a one-dimensional shape with a trailing comma: (5,).
  std::string shape = fmt::format("{}", fmt::join(tensor.shape, ", "));
  if (tensor.shape.size() == 1)
    shape += ",";
  std::string header = fmt::format(
      "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", shape);

  // As numpy does, pad with spaces and end with a newline so that the data
  // starts on a 64-byte boundary and can be memory-mapped aligned.
  constexpr size_t preambleLength = 10;
  constexpr size_t alignment = 64;
  size_t unpadded = preambleLength + header.size() + 1;
  header.append((alignment - unpadded % alignment) % alignment, ' ');
  header += '\n';
  if (header.size() > std::numeric_limits<uint16_t>::max())
    fail(path, "shape {} is too long for a .npy header",
         formatDims(tensor.shape));

  std::string preamble = "\x93NUMPY\x01";
  preamble += '\0';
  preamble += static_cast<char>(header.size() & 0xff);
  preamble += static_cast<char>(header.size() >> 8);
  AtomicFileWriter writer(path);
  writer.write(preamble.data(), preamble.size());
  writer.write(header.data(), header.size());
  writer.write(tensor.data.data(), count * sizeof(float));
  writer.commit();
}

// safetensors ---------------------------------------------------------------

namespace {

enum class SafeType {
  F32,
  F64,
  F16,
  BF16,
  I64,
  I32,
  I16,
  I8,
  U64,
  U32,
  U16,
  U8,
  Bool
};

struct SafeTypeInfo {
  std::string_view name;
  SafeType type;
  size_t size;
};

// Floats are what the trainer uses; integers and booleans are read too,
// converted to float, because PyTorch checkpoints carry buffers such as
// BatchNorm's int64 num_batches_tracked that must not stop a --load.
constexpr SafeTypeInfo kSafeTypes[] = {
    {"F32", SafeType::F32, 4},   {"F64", SafeType::F64, 8},
    {"F16", SafeType::F16, 2},   {"BF16", SafeType::BF16, 2},
    {"I64", SafeType::I64, 8},   {"I32", SafeType::I32, 4},
    {"I16", SafeType::I16, 2},   {"I8", SafeType::I8, 1},
    {"U64", SafeType::U64, 8},   {"U32", SafeType::U32, 4},
    {"U16", SafeType::U16, 2},   {"U8", SafeType::U8, 1},
    {"BOOL", SafeType::Bool, 1},
};

float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  if (exponent == 0x1f)
    return std::bit_cast<float>(sign | 0x7f800000 | mantissa << 13);
  if (exponent != 0)
    return std::bit_cast<float>(sign | (exponent + 112) << 23 | mantissa << 13);
  // Zero and subnormals: the mantissa counts units of 2^-24.
  float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  return sign != 0 ? -magnitude : magnitude;
}

float bfloat16ToFloat(uint16_t value) {
  return std::bit_cast<float>(static_cast<uint32_t>(value) << 16);
}

struct SafeEntry {
  std::string name;
  SafeTypeInfo type;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Walks a header's JSON once without building it, to check what the
// parsed tree must not have: too deep a nesting or too many values (a
// hostile 100 MB header would parse into gigabytes), too many tensors, or
// a key twice in one object (the parser would keep the last silently, so
// a file could say two things about one tensor). nlohmann's callback
// parser could count as it builds, but it takes time quadratic in the
// number of an object's members.
class HeaderCheck final : public json::json_sax_t {
public:
  enum class Problem { None, Syntax, TooComplex, TooManyTensors, Duplicate };

  Problem problem = Problem::None;
  std::string detail; // the syntax error, or the duplicate key

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t &) override {
    return value();
  }
  bool string(string_t &) override { return value(); }
  bool binary(binary_t &) override { return value(); }
  bool start_object(std::size_t) override { return open(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t &name) override {
    if (!keys_.back().insert(name).second)
      return stop(Problem::Duplicate, name);
    if (keys_.size() == 1 && name != "__metadata__" && ++tensors_ > kMaxTensors)
      return stop(Problem::TooManyTensors, "");
    return true;
  }

  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &error) override {
    // nlohmann prefixes its messages with an id the user has no use for.
    std::string_view message = error.what();
    if (auto end = message.find("] "); end != std::string_view::npos)
      message.remove_prefix(end + 2);
    return stop(Problem::Syntax, std::string(message));
  }

private:
  bool value() {
    return ++values_ <= kMaxHeaderValues || stop(Problem::TooComplex, "");
  }
  bool open() {
    if (!value() || keys_.size() >= kMaxHeaderDepth)
      return stop(Problem::TooComplex, "");
    keys_.emplace_back();
    return true;
  }
  bool close() {
    keys_.pop_back();
    return true;
  }
  bool stop(Problem found, std::string what) {
    problem = found;
    detail = std::move(what);
    return false;
  }

  // The keys of each object open now, outermost first; arrays have an
  // empty set, so that the depth is the size.
  std::vector<std::set<std::string>> keys_;
  size_t values_ = 0;
  size_t tensors_ = 0;
};

json parseSafeTensorsHeader(const std::string &path, const std::string &text) {
  HeaderCheck check;
  if (!json::sax_parse(text, &check)) {
    switch (check.problem) {
    case HeaderCheck::Problem::Duplicate:
      fail(path, "the safetensors header has the key '{}' twice in one object",
           check.detail);
    case HeaderCheck::Problem::TooManyTensors:
      fail(path,
           "the safetensors header lists more than {} tensors, more than "
           "any model the trainer builds",
           kMaxTensors);
    case HeaderCheck::Problem::TooComplex:
      fail(path, "the safetensors header is too deeply nested or too large "
                 "to be real");
    case HeaderCheck::Problem::Syntax:
    case HeaderCheck::Problem::None:
      break;
    }
    fail(path, "the safetensors header is not valid JSON: {}", check.detail);
  }
  return json::parse(text);
}

std::vector<int64_t> readShape(const std::string &path, const std::string &name,
                               const json &shape) {
  if (!shape.is_array() || shape.size() > kMaxRank)
    fail(path, "tensor '{}': 'shape' is not a list of at most {} dims", name,
         kMaxRank);
  std::vector<int64_t> dims;
  constexpr auto largestDim =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (const json &dim : shape) {
    // nlohmann stores non-negative integers as unsigned.
    if (!dim.is_number_unsigned() || dim.get<uint64_t>() > largestDim)
      fail(path, "tensor '{}': 'shape' must hold non-negative integers", name);
    dims.push_back(dim.get<int64_t>());
  }
  return dims;
}

SafeEntry readEntry(const std::string &path, const std::string &name,
                    const json &description, uint64_t dataSize) {
  if (!description.is_object())
    fail(path, "tensor '{}': its header entry is not an object", name);
  for (const char *field : {"dtype", "shape", "data_offsets"})
    if (!description.contains(field))
      fail(path, "tensor '{}': the header entry has no '{}'", name, field);

  SafeEntry entry;
  entry.name = name;
  const json &dtype = description["dtype"];
  if (!dtype.is_string())
    fail(path, "tensor '{}': 'dtype' is not a string", name);
  const std::string &dtypeName = dtype.get_ref<const std::string &>();
  auto known = std::find_if(
      std::begin(kSafeTypes), std::end(kSafeTypes),
      [&](const SafeTypeInfo &info) { return info.name == dtypeName; });
  if (known == std::end(kSafeTypes))
    fail(path,
         "tensor '{}': dtype {} is not supported (F32, F64, F16, BF16 "
         "and integer types are)",
         name, dtypeName);
  entry.type = *known;
  entry.shape = readShape(path, name, description["shape"]);

  const json &offsets = description["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 ||
      !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
    fail(path,
         "tensor '{}': 'data_offsets' is not a pair of non-negative "
         "integers",
         name);
  entry.begin = offsets[0].get<uint64_t>();
  entry.end = offsets[1].get<uint64_t>();
  if (entry.begin > entry.end || entry.end > dataSize)
    fail(path,
         "tensor '{}': data_offsets [{}, {}] lie outside the {} bytes "
         "of data in the file",
         name, entry.begin, entry.end, dataSize);
  uint64_t count = 0;
  if (!countElements(entry.shape, &count) ||
      count > std::numeric_limits<uint64_t>::max() / entry.type.size ||
      count * entry.type.size != entry.end - entry.begin)
    fail(path,
         "tensor '{}': shape {} of {} does not match its {} bytes of "
         "data",
         name, formatDims(entry.shape), entry.type.name,
         entry.end - entry.begin);
  return entry;
}

void readEntryData(const InputFile &file, uint64_t dataStart,
                   const SafeEntry &entry, HostTensor &tensor) {
  size_t count = (entry.end - entry.begin) / entry.type.size;
  tensor.shape = entry.shape;
  tensor.data.resize(count);
  float *output = tensor.data.data();
  uint64_t offset = dataStart + entry.begin;
  auto toFloat = [](auto value) { return static_cast<float>(value); };
  switch (entry.type.type) {
  case SafeType::F32:
    file.readExactly(offset, output, count * sizeof(float));
    break;
  case SafeType::F64:
    readConverted<double>(file, offset, count, output, toFloat);
    break;
  case SafeType::F16:
    readConverted<uint16_t>(file, offset, count, output, halfToFloat);
    break;
  case SafeType::BF16:
    readConverted<uint16_t>(file, offset, count, output, bfloat16ToFloat);
    break;
  case SafeType::I64:
    readConverted<int64_t>(file, offset, count, output, toFloat);
    break;
  case SafeType::I32:
    readConverted<int32_t>(file, offset, count, output, toFloat);
    break;
  case SafeType::I16:
    readConverted<int16_t>(file, offset, count, output, toFloat);
    break;
  case SafeType::I8:
    readConverted<int8_t>(file, offset, count, output, toFloat);
    break;
  case SafeType::U64:
    readConverted<uint64_t>(file, offset, count, output, toFloat);
    break;
  case SafeType::U32:
    readConverted<uint32_t>(file, offset, count, output, toFloat);
    break;
  case SafeType::U16:
    readConverted<uint16_t>(file, offset, count, output, toFloat);
    break;
  case SafeType::U8:
    readConverted<uint8_t>(file, offset, count, output, toFloat);
    break;
  case SafeType::Bool:
    readConverted<uint8_t>(file, offset, count, output,
                           [](uint8_t value) { return value ? 1.0f : 0.0f; });
    break;
  }
}

} // namespace

SafeTensors readSafeTensors(const std::string &path) {
  return readSafeTensors(
      path,
      [](const std::string &, const std::vector<int64_t> &) { return true; });
}

SafeTensors readSafeTensors(const std::string &path,
                            const TensorFilter &wanted) {
  InputFile file(path);
  uint8_t prefix[8] = {};
  size_t got = file.readSome(0, prefix, sizeof prefix);
  if (got < sizeof prefix)
    fail(path, "too short to be a safetensors file ({} bytes){}", got,
         guessFormat(prefix, got));
  uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
    headerLength = headerLength << 8 | prefix[i];
  if (headerLength > kMaxSafeTensorsHeaderBytes)
    fail(path,
         "not a safetensors file: its header length {} is over the {} "
         "byte limit{}",
         headerLength, kMaxSafeTensorsHeaderBytes, guessFormat(prefix, got));
  if (headerLength > file.size() - sizeof prefix)
    fail(path,
         "the safetensors header says it is {} bytes long, but only {} "
         "bytes follow{}",
         headerLength, file.size() - sizeof prefix, guessFormat(prefix, got));

  std::string text(headerLength, '\0');
  file.readExactly(sizeof prefix, text.data(), text.size());
  json header = parseSafeTensorsHeader(path, text);
  text = std::string();
  if (!header.is_object())
    fail(path, "the safetensors header is not a JSON object");

  SafeTensors result;
  uint64_t dataStart = sizeof prefix + headerLength;
  uint64_t dataSize = file.size() - dataStart;
  std::vector<SafeEntry> entries;
  for (const auto &[name, description] : header.items()) {
    if (name != "__metadata__") {
      entries.push_back(readEntry(path, name, description, dataSize));
      continue;
    }
    if (!description.is_object())
      fail(path, "__metadata__ is not a JSON object");
    for (const auto &[key, value] : description.items()) {
      if (!value.is_string())
        fail(path, "__metadata__ value of '{}' is not a string", key);
      result.metadata[key] = value.get<std::string>();
    }
  }

  // The tensors' data must fill the data section exactly, as the format
  // requires: shared bytes would let tensors take more memory together
  // than the file holds, and bytes no tensor owns mean a damaged file.
  std::vector<const SafeEntry *> byOffset;
  for (const SafeEntry &entry : entries)
    byOffset.push_back(&entry);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const SafeEntry *a, const SafeEntry *b) {
              return std::pair(a->begin, a->end) < std::pair(b->begin, b->end);
            });
  uint64_t covered = 0;
  for (size_t i = 0; i < byOffset.size(); ++i) {
    if (byOffset[i]->begin < covered)
      fail(path, "tensors '{}' and '{}' overlap in the file",
           byOffset[i - 1]->name, byOffset[i]->name);
    if (byOffset[i]->begin > covered)
      fail(path,
           "the {} bytes of data before tensor '{}' belong to no tensor; "
           "the file is damaged",
           byOffset[i]->begin - covered, byOffset[i]->name);
    covered = byOffset[i]->end;
  }
  if (covered != dataSize)
    fail(path,
         "{} bytes follow the last tensor's data and belong to no tensor; "
         "the file is damaged",
         dataSize - covered);

  uint64_t needed = 0;
  std::vector<const SafeEntry *> toRead;
  for (const SafeEntry &entry : entries) {
    if (wanted(entry.name, entry.shape)) {
      toRead.push_back(&entry);
      needed += (entry.end - entry.begin) / entry.type.size * sizeof(float);
    } else {
      result.tensors[entry.name].shape = entry.shape;
    }
  }
  checkFitsInMemory(path, needed, "the tensors read");
  for (const SafeEntry *entry : toRead)
    readEntryData(file, dataStart, *entry, result.tensors[entry->name]);
  return result;
}

void writeSafeTensors(const std::string &path, const SafeTensors &file,
                      const std::vector<std::string> &order) {
  // The given order comes first; any tensor it leaves out follows in map
  // order, so that a partial order never drops a tensor.
  std::vector<const std::string *> names;
  std::set<std::string_view> placed;
  for (const std::string &name : order) {
    if (!file.tensors.contains(name))
      fail(path, "tensor '{}' is named in the order but not given", name);
    if (placed.insert(name).second)
      names.push_back(&name);
  }
  for (const auto &[name, tensor] : file.tensors)
    if (!placed.contains(name))
      names.push_back(&name);

  ordered_json header = ordered_json::object();
  if (!file.metadata.empty()) {
    ordered_json metadata = ordered_json::object();
    for (const auto &[key, value] : file.metadata)
      metadata[key] = value;
    header["__metadata__"] = std::move(metadata);
  }
  uint64_t offset = 0;
  for (const std::string *name : names) {
    if (*name == "__metadata__")
      fail(path, "a tensor cannot be named __metadata__");
    const HostTensor &tensor = file.tensors.at(*name);
    uint64_t bytes =
        checkedCount(path, "tensor '" + *name + "'", tensor) * sizeof(float);
    header[*name] = {{"dtype", "F32"},
                     {"shape", tensor.shape},
                     {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const ordered_json::exception &) {
    fail(path, "a tensor name or metadata string is not valid UTF-8");
  }
  // The safetensors library pads the header with spaces to a multiple of 8
  // bytes so that the data after it is aligned.
  text.append((8 - text.size() % 8) % 8, ' ');

  uint8_t lengthBytes[8];
  for (int i = 0; i < 8; ++i)
    lengthBytes[i] = static_cast<uint8_t>(uint64_t{text.size()} >> (8 * i));
  AtomicFileWriter writer(path);
  writer.write(lengthBytes, sizeof lengthBytes);
  writer.write(text.data(), text.size());
  for (const std::string *name : names) {
    const HostTensor &tensor = file.tensors.at(*name);
    writer.write(tensor.data.data(), tensor.data.size() * sizeof(float));
  }
  writer.commit();
}

} // namespace gradc
