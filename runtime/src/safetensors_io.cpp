// Reading and writing safetensors checkpoints. The reader checks every
// offset and shape in the header against the file, and that the tensors
// cover the data exactly, before it allocates anything, and converts the
// dtypes PyTorch checkpoints carry to float; the writer writes F32
// tensors atomically.
#include "tensor_io.h"

#include "file_io.h"
#include "safetensors_header.h"
#include "tensor_shape.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace gradc {
namespace {

using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;

// The limit the safetensors library itself puts on its JSON header.
constexpr uint64_t kMaxSafeTensorsHeaderBytes = 100'000'000;

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
