// Reading and writing .npy arrays. The reader takes the dtypes numpy users
// have at hand and converts them to float (or, for labels, to int32); every
// size in the header is checked against the file before anything is
// allocated. The writer writes float32 as numpy lays it out, atomically.
#include "tensor_io.h"

#include "file_io.h"
#include "py_literal.h"
#include "tensor_shape.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/ranges.h>

namespace gradc {
namespace {

// numpy refuses headers over 10000 bytes unless told otherwise; nothing
// this reader accepts comes near this more lenient bound.
constexpr uint64_t kMaxNpyHeaderBytes = 1'000'000;

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
  PyValue dict = parsePyLiteral(path, text);
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

} // namespace gradc
