// Helpers the tensor_io tests share: writing files byte by byte as each
// format lays them out (damaged ones included), and catching the IoError a
// refused file must end in.
#ifndef GRADC_TESTS_TENSOR_IO_TEST_SUPPORT_H
#define GRADC_TESTS_TENSOR_IO_TEST_SUPPORT_H

#include "tensor_io.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>
#include <zlib.h>

namespace tensor_io_test {

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void writeGzip(const std::string &path, const std::string &bytes) {
  gzFile out = gzopen(path.c_str(), "wb");
  REQUIRE(out != nullptr);
  if (!bytes.empty())
    REQUIRE(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
  REQUIRE(gzclose(out) == Z_OK);
}

template <typename T> std::string bytesOf(const std::vector<T> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(T));
}

inline std::string littleEndian(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i)
    out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

inline std::string bigEndian32(uint32_t value) {
  std::string out;
  for (int i = 3; i >= 0; --i)
    out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

inline std::string idxFile(const std::vector<uint32_t> &dims,
                           const std::string &data) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (uint32_t dim : dims)
    out += bigEndian32(dim);
  return out + data;
}

// A .npy file with the given header dict text, as numpy lays it out.
inline std::string npyFile(const std::string &dict, const std::string &data,
                           int major = 1) {
  std::string header = dict + "\n";
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  out += littleEndian(header.size(), major == 1 ? 2 : 4);
  return out + header + data;
}

inline std::string npyDict(const std::string &descr, const std::string &shape) {
  return "{'descr': '" + descr +
         "', 'fortran_order': False, 'shape': " + shape + ", }";
}

// A safetensors header with one tensor 't' described by fields.
inline std::string oneTensor(const std::string &fields) {
  return "{\"t\":{" + fields + "}}";
}

inline std::string safeTensorsFile(const std::string &header,
                                   const std::string &data) {
  return littleEndian(header.size(), 8) + header + data;
}

// Runs action, which must throw IoError, and returns its message.
inline std::string errorOf(const std::function<void()> &action) {
  try {
    action();
  } catch (const gradc::IoError &error) {
    return error.what();
  }
  FAIL("no IoError was thrown");
  return "";
}

inline bool hasTemporaryFiles(const std::filesystem::path &folder) {
  for (const auto &entry : std::filesystem::directory_iterator(folder))
    if (entry.path().extension() == ".tmp")
      return true;
  return false;
}

inline std::string sequenceBytes(size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i)
    out += static_cast<char>(i * 7 + 1);
  return out;
}

// Half of the machine's memory, as the readers reckon it.
inline uint64_t memoryBudget() {
  return static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) / 2 *
         static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Writes head, then makes the file `size` bytes long without writing the
// rest, which reads as zeros and takes no disk space.
inline void writeSparse(const std::string &path, const std::string &head,
                        uint64_t size) {
  writeBytes(path, head);
  REQUIRE(::truncate(path.c_str(), static_cast<off_t>(size)) == 0);
}

} // namespace tensor_io_test

#endif // GRADC_TESTS_TENSOR_IO_TEST_SUPPORT_H
