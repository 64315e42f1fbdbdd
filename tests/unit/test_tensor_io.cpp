// Tests of the runtime's file formats: IDX, .npy and safetensors round trips,
// conversions from every supported dtype, atomic replacement, and damaged or
// hostile files, which must end in an IoError naming the file.
#include "csv_reader.h"
#include "tensor_io.h"

#include <catch2/catch.hpp>

#include "temp_dir.h"

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace fs = std::filesystem;
using gradc::HostTensor;
using gradc::IoError;
using gradc::SafeTensors;

namespace {


void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void writeGzip(const std::string &path, const std::string &bytes) {
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

std::string littleEndian(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i)
    out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

std::string bigEndian32(uint32_t value) {
  std::string out;
  for (int i = 3; i >= 0; --i)
    out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

std::string idxFile(const std::vector<uint32_t> &dims,
                    const std::string &data) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (uint32_t dim : dims)
    out += bigEndian32(dim);
  return out + data;
}

// A .npy file with the given header dict text, as numpy lays it out.
std::string npyFile(const std::string &dict, const std::string &data,
                    int major = 1) {
  std::string header = dict + "\n";
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  out += littleEndian(header.size(), major == 1 ? 2 : 4);
  return out + header + data;
}

std::string npyDict(const std::string &descr, const std::string &shape) {
  return "{'descr': '" + descr +
         "', 'fortran_order': False, 'shape': " + shape + ", }";
}

// A safetensors header with one tensor 't' described by fields.
std::string oneTensor(const std::string &fields) {
  return "{\"t\":{" + fields + "}}";
}

std::string safeTensorsFile(const std::string &header,
                            const std::string &data) {
  return littleEndian(header.size(), 8) + header + data;
}

// Runs action, which must throw IoError, and returns its message.
std::string errorOf(const std::function<void()> &action) {
  try {
    action();
  } catch (const IoError &error) {
    return error.what();
  }
  FAIL("no IoError was thrown");
  return "";
}

bool hasTemporaryFiles(const fs::path &folder) {
  for (const auto &entry : fs::directory_iterator(folder))
    if (entry.path().extension() == ".tmp")
      return true;
  return false;
}

std::string sequenceBytes(size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i)
    out += static_cast<char>(i * 7 + 1);
  return out;
}

} // namespace

// IDX ----------------------------------------------------------------------

TEST_CASE("IDX files are read plain and gzip-compressed alike", "[idx]") {
  TempDir dir;
  std::string pixels = sequenceBytes(2 * 3 * 4);
  std::string contents = idxFile({2, 3, 4}, pixels);
  writeBytes(dir.file("images-idx3-ubyte"), contents);
  writeGzip(dir.file("images-idx3-ubyte.gz"), contents);

  for (const char *name : {"images-idx3-ubyte", "images-idx3-ubyte.gz"}) {
    gradc::IdxArray array = gradc::readIdx(dir.file(name));
    CHECK(array.dims == std::vector<int64_t>{2, 3, 4});
    CHECK(std::string(array.bytes.begin(), array.bytes.end()) == pixels);
  }
}

TEST_CASE("IDX labels have one dim", "[idx]") {
  TempDir dir;
  std::string labels = {1, 9, 0, 4, 7};
  writeGzip(dir.file("labels.gz"), idxFile({5}, labels));

  gradc::IdxArray array = gradc::readIdx(dir.file("labels.gz"));
  CHECK(array.dims == std::vector<int64_t>{5});
  CHECK(std::string(array.bytes.begin(), array.bytes.end()) == labels);
}

TEST_CASE("IDX files with no items are empty, not errors", "[idx]") {
  TempDir dir;
  writeBytes(dir.file("empty"), idxFile({0, 28, 28}, ""));

  gradc::IdxArray array = gradc::readIdx(dir.file("empty"));
  CHECK(array.dims == std::vector<int64_t>{0, 28, 28});
  CHECK(array.bytes.empty());
}

TEST_CASE("IDX files whose data is short or long are refused", "[idx]") {
  TempDir dir;
  std::string path = dir.file("images");

  writeBytes(path, idxFile({2, 3, 4}, sequenceBytes(20)));
  CHECK(errorOf([&] { gradc::readIdx(path); }) ==
        path + ": expected 24 bytes of data, found 20 (IDX dims [2, 3, 4])");

  writeBytes(path, idxFile({2, 3, 4}, sequenceBytes(25)));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("expected 24 bytes of data, found 25"));

  writeGzip(path, idxFile({2, 3, 4}, sequenceBytes(20)));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("expected 24 bytes of data, found 20"));

  writeGzip(path, idxFile({2, 3, 4}, sequenceBytes(25)));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("more data than its IDX dims"));

  writeBytes(path, std::string("\0\0\x08\x03\0\0", 6));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("ended inside the IDX header"));
}

TEST_CASE("gzip IDX files that are cut short or damaged are refused", "[idx]") {
  TempDir dir;
  std::string whole = dir.file("whole.gz");
  std::string path = dir.file("images.gz");
  writeGzip(whole, idxFile({4, 16, 16}, sequenceBytes(4 * 16 * 16)));
  std::string compressed = readBytes(whole);

  writeBytes(path, compressed.substr(0, compressed.size() / 2));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::StartsWith(path + ": "));

  std::string damaged = compressed;
  for (size_t i = 12; i < damaged.size() - 8; ++i)
    damaged[i] = static_cast<char>(0xff);
  writeBytes(path, damaged);
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::StartsWith(path + ": "));
}

TEST_CASE("files that are not IDX unsigned bytes are refused", "[idx]") {
  TempDir dir;
  std::string path = dir.file("data");

  writeBytes(path, "");
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("too short for an IDX file"));

  writeBytes(path, "<!DOCTYPE html><html>");
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("not an IDX file") &&
                 Catch::Contains("HTML page"));

  writeBytes(path, npyFile(npyDict("<f4", "(1,)"), bytesOf<float>({1})));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("--train-x"));

  writeBytes(path, std::string("\0\0\x0d\x01", 4) + bigEndian32(1) +
                       bytesOf<float>({1}));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("0x0d (32-bit floats) is not supported"));

  writeBytes(path, std::string("\0\0\x08\x00", 4));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("0 dims are not supported"));

  writeBytes(path, std::string("\0\0\x08\x05", 4) + std::string(20, '\1'));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("5 dims are not supported"));
}

TEST_CASE("IDX dims too large for the file are refused before allocating",
          "[idx]") {
  TempDir dir;
  std::string path = dir.file("images");

  writeBytes(path,
             idxFile({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, "abc"));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("too large to be real"));

  writeBytes(path, idxFile({65536, 65536, 3}, "abc"));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("too large to be real"));

  writeBytes(path, idxFile({60000, 28, 28}, "abc"));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("expected 47040000 bytes of data, found 3"));

  writeGzip(path, idxFile({1000000, 1000, 4}, "abc"));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("more than a gzip file"));

  // Within what gzip could hold, but the stream ends long before: the
  // reader must stop at the data there is.
  std::mt19937 random(7);
  std::string noise;
  for (int i = 0; i < 100000; ++i)
    noise += static_cast<char>(random());
  writeGzip(path, idxFile({100000, 28, 28}, noise));
  CHECK_THAT(errorOf([&] { gradc::readIdx(path); }),
             Catch::Contains("expected 78400000 bytes of data, found 100000"));
}

// Missing files --------------------------------------------------------------

TEST_CASE("a missing file is named with a hint", "[io]") {
  TempDir dir;
  std::string path = dir.file("train-images-idx3-ubyte");

  CHECK(errorOf([&] { gradc::readIdx(path); }) == path + ": no such file");

  writeGzip(path + ".gz", idxFile({1}, "a"));
  CHECK(errorOf([&] { gradc::readIdx(path); }) ==
        path + ": no such file (did you mean " + path + ".gz?)");

  CHECK_THAT(errorOf([] { gradc::readNpy("surely/missing.npy"); }),
             Catch::StartsWith("surely/missing.npy: no such file (relative "
                               "to "));
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(dir.path().string()); }),
             Catch::EndsWith("is a folder, not a file"));
}

// .npy -----------------------------------------------------------------------

TEST_CASE("every supported .npy dtype is read as float", "[npy]") {
  TempDir dir;
  std::string path = dir.file("x.npy");
  std::vector<float> expected = {0, 1, -2, 3, 100, -128};

  SECTION("float32") {
    writeBytes(path, npyFile(npyDict("<f4", "(2, 3)"), bytesOf(expected)));
  }
  SECTION("float64") {
    writeBytes(path, npyFile(npyDict("<f8", "(2, 3)"),
                             bytesOf<double>({0, 1, -2, 3, 100, -128})));
  }
  SECTION("int32") {
    writeBytes(path, npyFile(npyDict("<i4", "(2, 3)"),
                             bytesOf<int32_t>({0, 1, -2, 3, 100, -128})));
  }
  SECTION("int64") {
    writeBytes(path, npyFile(npyDict("<i8", "(2, 3)"),
                             bytesOf<int64_t>({0, 1, -2, 3, 100, -128})));
  }
  SECTION("int8") {
    writeBytes(path, npyFile(npyDict("|i1", "(2, 3)"),
                             bytesOf<int8_t>({0, 1, -2, 3, 100, -128})));
  }
  SECTION("uint8") {
    expected = {0, 1, 254, 3, 100, 128};
    writeBytes(path, npyFile(npyDict("|u1", "(2, 3)"),
                             bytesOf<uint8_t>({0, 1, 254, 3, 100, 128})));
  }

  HostTensor tensor = gradc::readNpy(path);
  CHECK(tensor.shape == std::vector<int64_t>{2, 3});
  CHECK(tensor.data == expected);
}

TEST_CASE(".npy format versions 2.0 and 3.0 are read", "[npy]") {
  TempDir dir;
  std::string path = dir.file("x.npy");
  int major = GENERATE(2, 3);

  writeBytes(path, npyFile("{\"descr\": \"<f4\", \"shape\": (3,), "
                           "\"fortran_order\": False}",
                           bytesOf<float>({1.5f, 2.5f, 3.5f}), major));

  HostTensor tensor = gradc::readNpy(path);
  CHECK(tensor.shape == std::vector<int64_t>{3});
  CHECK(tensor.data == std::vector<float>{1.5f, 2.5f, 3.5f});
}

TEST_CASE("writeNpy round trips through readNpy", "[npy]") {
  TempDir dir;
  std::string path = dir.file("y.npy");
  HostTensor tensor =
      GENERATE(HostTensor{{2, 3}, {1, 2, 3, 4, 5, 6}},
               HostTensor{{4}, {-1, 0.5f, 1e30f, -0.0f}}, HostTensor{{}, {42}},
               HostTensor{{0, 3}, {}}, HostTensor{{1, 1, 2, 1, 1}, {7, 8}});

  gradc::writeNpy(path, tensor);

  std::string bytes = readBytes(path);
  REQUIRE(bytes.size() >= 10);
  CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  size_t headerLength = static_cast<uint8_t>(bytes[8]) |
                        static_cast<size_t>(static_cast<uint8_t>(bytes[9]))
                            << 8;
  CHECK((10 + headerLength) % 64 == 0);
  CHECK(bytes[10 + headerLength - 1] == '\n');
  HostTensor back = gradc::readNpy(path);
  CHECK(back.shape == tensor.shape);
  CHECK(back.data == tensor.data);
  CHECK_FALSE(hasTemporaryFiles(dir.path()));
}

TEST_CASE("writeNpy writes shapes the way numpy does", "[npy]") {
  TempDir dir;
  std::string path = dir.file("y.npy");

  gradc::writeNpy(path, HostTensor{{3}, {1, 2, 3}});
  CHECK_THAT(readBytes(path),
             Catch::Contains("{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (3,), }"));

  gradc::writeNpy(path, HostTensor{{}, {1}});
  CHECK_THAT(readBytes(path), Catch::Contains("'shape': (), }"));
}

TEST_CASE("writeNpy refuses data that does not match its shape", "[npy]") {
  TempDir dir;
  std::string path = dir.file("y.npy");
  writeBytes(path, "old contents");

  CHECK_THAT(errorOf([&] {
               gradc::writeNpy(path, HostTensor{{2, 3}, {1, 2}});
             }),
             Catch::Contains("has shape [2, 3] but holds 2 values"));
  CHECK_THAT(errorOf([&] {
               gradc::writeNpy(path, HostTensor{{-1}, {1}});
             }),
             Catch::Contains("negative dim"));
  CHECK(readBytes(path) == "old contents");
  CHECK_FALSE(hasTemporaryFiles(dir.path()));
}

TEST_CASE(".npy labels are read as int32", "[npy]") {
  TempDir dir;
  std::string path = dir.file("y.npy");
  std::vector<int64_t> shape;

  SECTION("int64") {
    writeBytes(path,
               npyFile(npyDict("<i8", "(4,)"), bytesOf<int64_t>({3, 0, 9, 2})));
  }
  SECTION("int32") {
    writeBytes(path,
               npyFile(npyDict("<i4", "(4,)"), bytesOf<int32_t>({3, 0, 9, 2})));
  }
  SECTION("uint8") {
    writeBytes(path,
               npyFile(npyDict("|u1", "(4,)"), bytesOf<uint8_t>({3, 0, 9, 2})));
  }

  CHECK(gradc::readNpyLabels(path, &shape) == std::vector<int32_t>{3, 0, 9, 2});
  CHECK(shape == std::vector<int64_t>{4});
  CHECK(gradc::readNpyLabels(path) == std::vector<int32_t>{3, 0, 9, 2});
}

TEST_CASE(".npy labels that are not int32 class ids are refused", "[npy]") {
  TempDir dir;
  std::string path = dir.file("y.npy");

  writeBytes(path, npyFile(npyDict("<f4", "(2,)"), bytesOf<float>({1, 2})));
  CHECK_THAT(errorOf([&] { gradc::readNpyLabels(path); }),
             Catch::Contains("class labels must be integers, found float32"));

  writeBytes(path, npyFile(npyDict("<i8", "(3,)"),
                           bytesOf<int64_t>({1, int64_t{1} << 40, 2})));
  CHECK_THAT(errorOf([&] { gradc::readNpyLabels(path); }),
             Catch::Contains("label 1099511627776 at index 1 does not fit"));
}

TEST_CASE(".npy files with the wrong amount of data are refused", "[npy]") {
  TempDir dir;
  std::string path = dir.file("x.npy");

  writeBytes(path, npyFile(npyDict("<f4", "(32, 32)"), std::string(100, 'a')));
  CHECK(errorOf([&] { gradc::readNpy(path); }) ==
        path + ": expected 4096 bytes of data, found 100 (shape [32, 32], "
               "float32)");

  writeBytes(path, npyFile(npyDict("<f4", "(2,)"), std::string(9, 'a')));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("expected 8 bytes of data, found 9"));

  writeBytes(path, npyFile(npyDict("<f8", "(1000000000, 1000000000)"), "x"));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("expected 8000000000000000000 bytes of data, "
                             "found 1"));

  writeBytes(path, npyFile(npyDict("<f8", "(4294967296, 4294967296)"), "x"));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("too large to be real"));
}

TEST_CASE(".npy layouts and dtypes the trainer cannot use are refused",
          "[npy]") {
  TempDir dir;
  std::string path = dir.file("x.npy");

  writeBytes(path,
             npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, "
                     "2), }",
                     bytesOf<float>({1, 2, 3, 4})));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("Fortran order"));

  writeBytes(path, npyFile(npyDict(">f4", "(1,)"), bytesOf<float>({1})));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("big-endian"));

  writeBytes(path, npyFile(npyDict("<f2", "(2,)"), "abcd"));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("dtype '<f2' is not supported"));

  writeBytes(path, npyFile("{'descr': [('a', '<f4')], 'fortran_order': "
                           "False, 'shape': (1,), }",
                           "abcd"));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("structured dtypes"));
}

TEST_CASE("files that are not .npy are refused with a hint", "[npy]") {
  TempDir dir;
  std::string path = dir.file("x.npy");

  writeGzip(path, npyFile(npyDict("<f4", "(1,)"), bytesOf<float>({1})));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("not a .npy file") && Catch::Contains("gunzip"));

  writeBytes(path, std::string("PK\x03\x04", 4) + std::string(40, '\0'));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("zip archive"));

  writeBytes(path, "\x93NUM");
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("too short to be a .npy file (4 bytes)"));

  writeBytes(path, "\x93NUMPY\x04");
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("ended inside the .npy preamble"));

  writeBytes(path, std::string("\x93NUMPY\x04\x00\x10\x00", 10) +
                       std::string(16, ' '));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("version 4.0 is not supported"));
}

TEST_CASE("hostile .npy headers end in an IoError", "[npy]") {
  TempDir dir;
  std::string path = dir.file("x.npy");
  std::string header = GENERATE(
      std::string(""), std::string("{"), std::string("}"),
      std::string("[1, 2]"), std::string("{'descr': '<f4'"),
      std::string("{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}"),
      std::string("{'descr': '<f4', 'fortran_order': False, }"),
      std::string("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}"),
      std::string("{'descr': '<f4', 'fortran_order': False, 'shape': 1}"),
      std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"),
      std::string("{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "(99999999999999999999,)}"),
      std::string("{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "('1',)}"),
      std::string("{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "(1,) extra}"),
      std::string("{'descr': 4, 'fortran_order': False, 'shape': (1,)}"),
      std::string("{1: 2}"), std::string("{'a' 'b'}"),
      std::string("{'descr': '<f4', 'fortran_order': Nope, 'shape': (1,)}"),
      std::string(100000, '('), std::string(100000, '['),
      "{'shape': (" + std::string(200000, '1') + ",)}",
      "{'shape': (" + std::string(100, ',') + ")}",
      std::string("\0\0\0", 3), "{'shape': (" + [] {
        std::string dims;
        for (int i = 0; i < 100; ++i)
          dims += "1, ";
        return dims;
      }() + ")}");

  writeBytes(path, npyFile(header, "abcd"));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::StartsWith(path + ": "));
}

TEST_CASE(".npy header lengths beyond the file are refused", "[npy]") {
  TempDir dir;
  std::string path = dir.file("x.npy");

  writeBytes(path, std::string("\x93NUMPY\x01\x00\xff\xff", 10) + "{}");
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("says it is 65535 bytes long, but only 2 bytes "
                             "follow"));

  writeBytes(path, std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + "{}");
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("4294967295 bytes long"));
}

// safetensors ---------------------------------------------------------------

TEST_CASE("safetensors round trip with metadata", "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  SafeTensors file;
  file.tensors["fc1.weight"] = HostTensor{{2, 3}, {1, 2, 3, 4, 5, 6}};
  file.tensors["fc1.bias"] = HostTensor{{2}, {-0.5f, 0.25f}};
  file.tensors["loss"] = HostTensor{{1}, {0.75f}};
  file.tensors["scalar"] = HostTensor{{}, {9}};
  file.tensors["empty"] = HostTensor{{0, 4}, {}};
  file.metadata["epoch"] = "3";
  file.metadata["rng"] = "state with \"quotes\", \\ and \n newline";
  file.metadata["unicode"] = "\xc3\xa9t\xc3\xa9";

  gradc::writeSafeTensors(path, file);

  SafeTensors back = gradc::readSafeTensors(path);
  CHECK(back.metadata == file.metadata);
  REQUIRE(back.tensors.size() == file.tensors.size());
  for (const auto &[name, tensor] : file.tensors) {
    INFO(name);
    CHECK(back.tensors[name].shape == tensor.shape);
    CHECK(back.tensors[name].data == tensor.data);
  }
  CHECK_FALSE(hasTemporaryFiles(dir.path()));
}

TEST_CASE("safetensors headers are padded and follow the given order",
          "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  SafeTensors file;
  file.tensors["b"] = HostTensor{{1}, {2}};
  file.tensors["a"] = HostTensor{{2}, {1, 1}};
  file.tensors["c"] = HostTensor{{3}, {3, 3, 3}};

  gradc::writeSafeTensors(path, file, {"c", "a"});

  std::string bytes = readBytes(path);
  REQUIRE(bytes.size() >= 8);
  uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
    headerLength = headerLength << 8 | static_cast<uint8_t>(bytes[i]);
  CHECK(headerLength % 8 == 0);
  CHECK(bytes.size() == 8 + headerLength + 6 * sizeof(float));
  std::string header = bytes.substr(8, headerLength);
  CHECK(header.find("\"c\"") < header.find("\"a\""));
  CHECK(header.find("\"a\"") < header.find("\"b\""));
  CHECK_THAT(header, Catch::Contains("\"c\":{\"dtype\":\"F32\",\"shape\":[3],"
                                     "\"data_offsets\":[0,12]}"));
  CHECK(header.find_last_not_of(' ') == header.find_last_of('}'));
  CHECK(bytes.substr(8 + headerLength, 12) == bytesOf<float>({3, 3, 3}));
}

TEST_CASE("writeSafeTensors refuses what it cannot write", "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  SafeTensors file;
  file.tensors["w"] = HostTensor{{2}, {1, 2}};

  CHECK_THAT(errorOf([&] { gradc::writeSafeTensors(path, file, {"x"}); }),
             Catch::Contains("'x' is named in the order"));

  file.tensors["bad"] = HostTensor{{3}, {1}};
  CHECK_THAT(errorOf([&] { gradc::writeSafeTensors(path, file); }),
             Catch::Contains("tensor 'bad' has shape [3] but holds 1 values"));
  file.tensors.erase("bad");

  file.tensors["__metadata__"] = HostTensor{{1}, {1}};
  CHECK_THAT(errorOf([&] { gradc::writeSafeTensors(path, file); }),
             Catch::Contains("cannot be named __metadata__"));
  file.tensors.erase("__metadata__");

  file.metadata["note"] = "\xff\xfe";
  CHECK_THAT(errorOf([&] { gradc::writeSafeTensors(path, file); }),
             Catch::Contains("not valid UTF-8"));

  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(hasTemporaryFiles(dir.path()));
}

TEST_CASE("writing over an existing file replaces it whole", "[atomic]") {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  SafeTensors large;
  large.tensors["w"] = HostTensor{{1000}, std::vector<float>(1000, 1.0f)};
  large.metadata["size"] = "large";
  SafeTensors small;
  small.tensors["v"] = HostTensor{{2}, {5, 6}};

  gradc::writeSafeTensors(path, large);
  // A link planted at the temporary name writers used to use must lead
  // nowhere: each writer makes a new temporary file of its own.
  writeBytes(dir.file("victim"), "precious");
  fs::create_symlink(dir.file("victim"), path + ".tmp");
  gradc::writeSafeTensors(path, small);

  SafeTensors back = gradc::readSafeTensors(path);
  CHECK(back.metadata.empty());
  REQUIRE(back.tensors.size() == 1);
  CHECK(back.tensors["v"].data == std::vector<float>{5, 6});
  CHECK(fs::file_size(path) < 100);
  CHECK(readBytes(dir.file("victim")) == "precious");
  CHECK(fs::is_symlink(path + ".tmp"));
  fs::remove(path + ".tmp");
  CHECK_FALSE(hasTemporaryFiles(dir.path()));

  gradc::writeFileAtomically(path, "new");
  CHECK(readBytes(path) == "new");
  gradc::writeFileAtomically(path, "");
  CHECK(readBytes(path).empty());
  CHECK_FALSE(hasTemporaryFiles(dir.path()));
}

TEST_CASE("atomic writes into a missing folder name the folder", "[atomic]") {
  TempDir dir;
  std::string path = dir.file("missing/out.npy");

  CHECK_THAT(errorOf([&] { gradc::writeFileAtomically(path, "x"); }),
             Catch::StartsWith(path + ": cannot create a temporary file") &&
                 Catch::Contains("missing does not exist"));
  CHECK_THAT(errorOf([&] {
               gradc::writeNpy(path, HostTensor{{1}, {1}});
             }),
             Catch::Contains("does not exist"));
}

TEST_CASE("safetensors F64, F16, BF16 and integers are read as float",
          "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("mixed.safetensors");
  std::string data =
      bytesOf<double>({1.5, -2.25}) +
      bytesOf<uint16_t>({0x3c00, 0xc000, 0x7c00, 0x0001, 0x8000, 0x7e00}) +
      bytesOf<uint16_t>({0x3f80, 0xc040}) + bytesOf<int64_t>({12345}) +
      bytesOf<uint8_t>({0, 3});
  std::string header =
      R"({"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
      R"("h":{"dtype":"F16","shape":[2,3],"data_offsets":[16,28]},)"
      R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[28,32]},)"
      R"("bn.num_batches_tracked":{"dtype":"I64","shape":[],)"
      R"("data_offsets":[32,40]},)"
      R"("flags":{"dtype":"BOOL","shape":[2],"data_offsets":[40,42]}})";
  writeBytes(path, safeTensorsFile(header, data));

  SafeTensors file = gradc::readSafeTensors(path);
  CHECK(file.tensors["d"].data == std::vector<float>{1.5f, -2.25f});
  const std::vector<float> &half = file.tensors["h"].data;
  CHECK(file.tensors["h"].shape == std::vector<int64_t>{2, 3});
  REQUIRE(half.size() == 6);
  CHECK(half[0] == 1.0f);
  CHECK(half[1] == -2.0f);
  CHECK(half[2] == std::numeric_limits<float>::infinity());
  CHECK(half[3] == std::ldexp(1.0f, -24));
  CHECK(half[4] == 0.0f);
  CHECK(std::signbit(half[4]));
  CHECK(std::isnan(half[5]));
  CHECK(file.tensors["b"].data == std::vector<float>{1.0f, -3.0f});
  CHECK(file.tensors["bn.num_batches_tracked"].shape.empty());
  CHECK(file.tensors["bn.num_batches_tracked"].data ==
        std::vector<float>{12345});
  CHECK(file.tensors["flags"].data == std::vector<float>{0, 1});
  CHECK(file.metadata.empty());
}

TEST_CASE("every F16 value converts as IEEE half precision", "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("half.safetensors");
  std::vector<uint16_t> halves(65536);
  for (size_t i = 0; i < halves.size(); ++i)
    halves[i] = static_cast<uint16_t>(i);
  writeBytes(path, safeTensorsFile(R"({"h":{"dtype":"F16","shape":[65536],)"
                                   R"("data_offsets":[0,131072]}})",
                                   bytesOf(halves)));

  std::vector<float> values = gradc::readSafeTensors(path).tensors["h"].data;
  REQUIRE(values.size() == halves.size());
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    uint32_t exponent = (bits >> 10) & 0x1f;
    uint32_t mantissa = bits & 0x3ff;
    double magnitude = exponent == 0
                           ? std::ldexp(mantissa, -24)
                           : std::ldexp(1024 + mantissa, int(exponent) - 25);
    double expected = (bits & 0x8000) ? -magnitude : magnitude;
    if (exponent == 0x1f && mantissa != 0) {
      CHECK(std::isnan(values[bits]));
    } else if (exponent == 0x1f) {
      CHECK(std::isinf(values[bits]));
      CHECK(std::signbit(values[bits]) == ((bits & 0x8000) != 0));
    } else if (values[bits] != static_cast<float>(expected)) {
      FAIL("F16 bits " << bits << " read as " << values[bits]);
    }
  }
}

TEST_CASE("hostile safetensors headers end in an IoError", "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("bad.safetensors");
  std::string data = bytesOf<float>({1, 2, 3, 4});

  struct Case {
    std::string header;
    std::string message;
  };
  Case bad = GENERATE(
      Case{"not json", "not valid JSON"}, Case{"[1,2]", "not a JSON object"},
      Case{"{\"t\":5}", "header entry is not an object"},
      Case{oneTensor(R"("shape":[4],"data_offsets":[0,16])"), "has no 'dtype'"},
      Case{oneTensor(R"("dtype":"F32","data_offsets":[0,16])"),
           "has no 'shape'"},
      Case{oneTensor(R"("dtype":"F32","shape":[4])"), "has no 'data_offsets'"},
      Case{oneTensor(R"("dtype":7,"shape":[4],"data_offsets":[0,16])"),
           "'dtype' is not a string"},
      Case{oneTensor(R"("dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4])"),
           "dtype F8_E4M3 is not supported"},
      Case{oneTensor(R"("dtype":"F32","shape":[-4],"data_offsets":[0,16])"),
           "non-negative integers"},
      Case{oneTensor(R"("dtype":"F32","shape":[4.0],"data_offsets":[0,16])"),
           "non-negative integers"},
      Case{oneTensor(R"("dtype":"F32","shape":4,"data_offsets":[0,16])"),
           "'shape' is not a list"},
      Case{oneTensor(R"("dtype":"F32","shape":[18446744073709551615],)"
                     R"("data_offsets":[0,16])"),
           "non-negative integers"},
      Case{oneTensor(R"("dtype":"F32","shape":[4294967296,4294967296],)"
                     R"("data_offsets":[0,16])"),
           "does not match its 16 bytes"},
      Case{oneTensor(R"("dtype":"F32","shape":[4],"data_offsets":[0,20])"),
           "lie outside the 16 bytes"},
      Case{oneTensor(R"("dtype":"F32","shape":[4],"data_offsets":[8,4])"),
           "lie outside"},
      Case{oneTensor(R"("dtype":"F32","shape":[4],"data_offsets":[0])"),
           "not a pair"},
      Case{oneTensor(R"("dtype":"F32","shape":[4],"data_offsets":[-1,15])"),
           "not a pair"},
      Case{oneTensor(R"("dtype":"F32","shape":[3],"data_offsets":[0,16])"),
           "shape [3] of F32 does not match its 16 bytes"},
      Case{R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
           R"("u":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
           "'t' and 'u' overlap"},
      Case{R"({"__metadata__":{"epoch":3}})", "value of 'epoch' is not a "
                                              "string"},
      Case{R"({"__metadata__":"x"})", "__metadata__ is not a JSON object"},
      Case{"{\"t\":" + std::string(100000, '[') + std::string(100000, ']') +
               "}",
           "too deeply nested"},
      Case{"{\"t\":\"\xff\xff\"}", "not valid JSON"});

  writeBytes(path, safeTensorsFile(bad.header, data));
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::StartsWith(path + ": ") && Catch::Contains(bad.message));
}

TEST_CASE("safetensors header lengths beyond limits are refused",
          "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("bad.safetensors");

  writeBytes(path, "abc");
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::Contains("too short to be a safetensors file (3 bytes)"));

  writeBytes(path, littleEndian(100'000'001, 8) + "{}");
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::Contains("over the 100000000 byte limit"));

  writeBytes(path, littleEndian(~uint64_t{0}, 8) + "{}");
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::Contains("header length"));

  writeBytes(path, littleEndian(1000, 8) + "{}");
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::Contains("says it is 1000 bytes long, but only 2 bytes "
                             "follow"));

  writeBytes(path, std::string("PK\x03\x04", 4) + std::string(100, 'x'));
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::Contains("PyTorch"));
}

// Damage at every byte ------------------------------------------------------

// Reads every truncation of a valid file and a few damaged copies of each
// byte: each must either read or throw IoError, never crash or hang.
void checkDamageIsContained(const std::string &path, const std::string &good,
                            const std::function<void()> &read) {
  for (size_t length = 0; length < good.size(); ++length) {
    writeBytes(path, good.substr(0, length));
    INFO("truncated to " << length << " bytes");
    CHECK_THROWS_AS(read(), IoError);
  }
  for (size_t position = 0; position < good.size(); ++position) {
    for (char value : {'\0', '\x7f', '\xff', '1', ','}) {
      std::string damaged = good;
      damaged[position] = value;
      writeBytes(path, damaged);
      INFO("byte " << position << " set to " << int(value));
      try {
        read();
      } catch (const IoError &) {
      }
    }
  }
}

TEST_CASE("damaged files end in an IoError or a valid read", "[damage]") {
  TempDir dir;
  std::string path = dir.file("damaged");

  SECTION("npy") {
    std::string good = dir.file("good.npy");
    gradc::writeNpy(good, HostTensor{{2, 3}, {1, 2, 3, 4, 5, 6}});
    checkDamageIsContained(path, readBytes(good),
                           [&] { gradc::readNpy(path); });
  }
  SECTION("npy labels") {
    std::string good =
        npyFile(npyDict("<i8", "(3,)"), bytesOf<int64_t>({1, 2, 3}));
    checkDamageIsContained(path, good, [&] { gradc::readNpyLabels(path); });
  }
  SECTION("safetensors") {
    std::string good = dir.file("good.safetensors");
    SafeTensors file;
    file.tensors["a.weight"] = HostTensor{{2, 2}, {1, 2, 3, 4}};
    file.tensors["a.bias"] = HostTensor{{2}, {5, 6}};
    file.metadata["epoch"] = "1";
    gradc::writeSafeTensors(good, file);
    checkDamageIsContained(path, readBytes(good),
                           [&] { gradc::readSafeTensors(path); });
  }
  SECTION("idx") {
    checkDamageIsContained(path, idxFile({2, 2, 3}, sequenceBytes(12)),
                           [&] { gradc::readIdx(path); });
  }
  SECTION("gzip idx") {
    std::string good = dir.file("good.gz");
    writeGzip(good, idxFile({2, 2, 3}, sequenceBytes(12)));
    checkDamageIsContained(path, readBytes(good),
                           [&] { gradc::readIdx(path); });
  }
}

// Files that are not regular ------------------------------------------------

namespace {

// While it lives, opens the FIFO's other end now and then, so that a reader
// or writer that wrongly blocks on it is released and the test fails
// instead of hanging; released() says whether that happened.
class FifoWatch {
public:
  explicit FifoWatch(std::string path)
      : path_(std::move(path)), thread_([this] { watch(); }) {}
  FifoWatch(const FifoWatch &) = delete;
  FifoWatch &operator=(const FifoWatch &) = delete;
  ~FifoWatch() {
    done_ = true;
    thread_.join();
  }
  bool released() const { return released_; }

private:
  void watch() {
    for (int round = 0; round < 400 && !done_; ++round) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      // Without blocking: these succeed only when someone has the FIFO
      // open, or is blocked opening it, from the other side.
      for (int mode : {O_WRONLY, O_RDONLY}) {
        int descriptor = ::open(path_.c_str(), mode | O_NONBLOCK);
        if (descriptor >= 0 && mode == O_WRONLY) {
          released_ = true;
          ::close(descriptor);
        } else if (descriptor >= 0) {
          // A reader of our own lets a blocked writer through; it drains
          // whatever it wrote.
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          char sink[4096];
          while (::read(descriptor, sink, sizeof sink) > 0)
            released_ = true;
          ::close(descriptor);
        }
      }
    }
  }

  std::string path_;
  std::atomic<bool> done_{false};
  std::atomic<bool> released_{false};
  std::thread thread_;
};

} // namespace

TEST_CASE("a FIFO is refused as input without blocking", "[io]") {
  TempDir dir;
  std::string path = dir.file("fifo");
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  FifoWatch watch(path);

  const std::function<void()> readers[] = {
      [&] { gradc::readIdx(path); },
      [&] { gradc::readNpy(path); },
      [&] { gradc::readNpyLabels(path); },
      [&] { gradc::readSafeTensors(path); },
      [&] { gradc::readCsv(path); },
      [&] { gradc::checkInputFile(path); },
  };
  for (const auto &read : readers)
    CHECK(errorOf(read) ==
          path + ": is a FIFO (named pipe), not a regular file; give a file");
  CHECK_FALSE(watch.released());
}

TEST_CASE("writers refuse a target that is not a regular file", "[atomic]") {
  TempDir dir;
  std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  FifoWatch watch(fifo);

  const std::string refused =
      ": is a FIFO (named pipe), not a regular file; refusing to write over it";
  CHECK(errorOf([&] { gradc::writeFileAtomically(fifo, "x"); }) ==
        fifo + refused);
  CHECK(errorOf([&] {
          gradc::writeNpy(fifo, HostTensor{{1}, {1}});
        }) == fifo + refused);
  SafeTensors file;
  file.tensors["w"] = HostTensor{{1}, {1}};
  CHECK(errorOf([&] { gradc::writeSafeTensors(fifo, file); }) ==
        fifo + refused);
  CHECK_THAT(errorOf([&] { gradc::writeFileAtomically(dir.file(""), "x"); }),
             Catch::Contains("is a folder"));

  // The FIFO is still there, and nothing was left beside it.
  CHECK(fs::is_fifo(fifo));
  CHECK_FALSE(hasTemporaryFiles(dir.path()));
  CHECK_FALSE(watch.released());
}

TEST_CASE("atomic writes make files as open(2) would", "[atomic]") {
  TempDir dir;
  std::string path = dir.file("out.npy");
  const mode_t mask = ::umask(027);
  gradc::writeNpy(path, HostTensor{{1}, {1}});
  ::umask(mask);
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0640);
}

// Hostile sizes ---------------------------------------------------------------

namespace {

// Half of the machine's memory, as the readers reckon it.
uint64_t memoryBudget() {
  return static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) / 2 *
         static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Writes head, then makes the file `size` bytes long without writing the
// rest, which reads as zeros and takes no disk space.
void writeSparse(const std::string &path, const std::string &head,
                 uint64_t size) {
  writeBytes(path, head);
  REQUIRE(::truncate(path.c_str(), static_cast<off_t>(size)) == 0);
}

} // namespace

TEST_CASE("data that would take over half the memory is refused before "
          "allocating",
          "[npy]") {
  TempDir dir;
  std::string path = dir.file("x.npy");
  // uint8 values become four-byte floats: a file a quarter of the budget
  // in size needs all of it, and one more value is too many.
  const uint64_t count = memoryBudget() / 4 + 1;
  const std::string head =
      npyFile(npyDict("|u1", "(" + std::to_string(count) + ",)"), "");
  writeSparse(path, head, head.size() + count);
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::StartsWith(path + ": its " + std::to_string(count) +
                               " values (shape [") &&
                 Catch::Contains("more than half of the"));
  CHECK_THAT(errorOf([&] { gradc::readNpyLabels(path); }),
             Catch::Contains("more than half of the"));
}

TEST_CASE("a checkpoint reader reads only the tensors it wants",
          "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  // 'w' is small; 'extra' is a sparse U8 tensor whose floats would take
  // more than the memory budget.
  const uint64_t extra = memoryBudget() / 4 + 1;
  const std::string header =
      R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("extra":{"dtype":"U8","shape":[)" +
      std::to_string(extra) + R"(],"data_offsets":[8,)" +
      std::to_string(8 + extra) + "]}}";
  const std::string head =
      safeTensorsFile(header, bytesOf<float>({1.5f, -2.0f}));
  writeSparse(path, head, head.size() + extra);

  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::Contains("the tensors read need") &&
                 Catch::Contains("more than half of the"));

  std::vector<std::string> asked;
  SafeTensors file = gradc::readSafeTensors(
      path, [&](const std::string &name, const std::vector<int64_t> &shape) {
        asked.push_back(name);
        return name == "w" && shape == std::vector<int64_t>{2};
      });
  CHECK(asked.size() == 2);
  CHECK(file.tensors["w"].data == std::vector<float>{1.5f, -2.0f});
  // The tensor left out keeps its shape, so a caller can name a mismatch.
  CHECK(file.tensors["extra"].shape ==
        std::vector<int64_t>{static_cast<int64_t>(extra)});
  CHECK(file.tensors["extra"].data.empty());
}

// safetensors structure -----------------------------------------------------

TEST_CASE("safetensors data must be covered by its tensors exactly",
          "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("bad.safetensors");
  const std::string data = bytesOf<float>({1, 2, 3, 4});

  writeBytes(path, safeTensorsFile(oneTensor(R"("dtype":"F32","shape":[4],)"
                                             R"("data_offsets":[0,16])"),
                                   data + "trailing"));
  CHECK(errorOf([&] { gradc::readSafeTensors(path); }) ==
        path + ": 8 bytes follow the last tensor's data and belong to no "
               "tensor; the file is damaged");

  writeBytes(path, safeTensorsFile(oneTensor(R"("dtype":"F32","shape":[3],)"
                                             R"("data_offsets":[4,16])"),
                                   data));
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::Contains("the 4 bytes of data before tensor 't' belong "
                             "to no tensor"));

  // Empty tensors take no bytes and may sit anywhere in order.
  writeBytes(path, safeTensorsFile(R"({"e":{"dtype":"F32","shape":[0],)"
                                   R"("data_offsets":[16,16]},)"
                                   R"("t":{"dtype":"F32","shape":[4],)"
                                   R"("data_offsets":[0,16]}})",
                                   data));
  CHECK(gradc::readSafeTensors(path).tensors.size() == 2);
}

TEST_CASE("safetensors headers with a key twice are refused", "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("bad.safetensors");
  const std::string data = bytesOf<float>({1, 2, 3, 4});
  const std::string t =
      R"("t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})";

  std::string header =
      GENERATE_COPY("{" + t + "," + t + "}",
                    R"({"__metadata__":{"epoch":"1","epoch":"-5"},)" + t + "}",
                    R"({"t":{"dtype":"F32","dtype":"F32","shape":[4],)"
                    R"("data_offsets":[0,16]}})");
  writeBytes(path, safeTensorsFile(header, data));
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::StartsWith(path + ": the safetensors header has the key "
                                      "'") &&
                 Catch::EndsWith("' twice in one object"));
}

TEST_CASE("safetensors headers of many tensors read in linear time",
          "[safetensors]") {
  TempDir dir;
  std::string path = dir.file("many.safetensors");
  auto header = [](size_t count) {
    std::string text = "{";
    for (size_t i = 0; i < count; ++i)
      text += (i > 0 ? ",\"t" : "\"t") + std::to_string(i) +
              R"(":{"dtype":"F32","shape":[0],"data_offsets":[0,0]})";
    return text + "}";
  };

  // The callback parser this replaced took half a minute over 40,000.
  writeBytes(path, safeTensorsFile(header(100'000), ""));
  const auto start = std::chrono::steady_clock::now();
  CHECK(gradc::readSafeTensors(path).tensors.size() == 100'000);
  const std::chrono::duration<double> seconds =
      std::chrono::steady_clock::now() - start;
  CHECK(seconds.count() < 10);

  writeBytes(path, safeTensorsFile(header(100'001), ""));
  CHECK_THAT(errorOf([&] { gradc::readSafeTensors(path); }),
             Catch::Contains("lists more than 100000 tensors"));
}

// gzip ----------------------------------------------------------------------

TEST_CASE("gzip IDX files with bytes after the gzip data are refused",
          "[idx]") {
  TempDir dir;
  std::string path = dir.file("labels.gz");
  const std::string labels = idxFile({5}, std::string{1, 9, 0, 4, 7});
  writeGzip(path, labels);
  const std::string compressed = readBytes(path);

  for (const std::string &tail :
       {std::string("garbage"), std::string(512, '\0'), std::string("\x1f")}) {
    writeBytes(path, compressed + tail);
    CHECK(errorOf([&] { gradc::readIdx(path); }) ==
          path + ": " + std::to_string(tail.size()) +
              " bytes follow the end of the gzip data; the file is damaged");
  }

  // Members one after another are one file, as gzip(1) reads them.
  std::string second = dir.file("second.gz");
  writeGzip(second, labels.substr(6));
  std::string first = dir.file("first.gz");
  writeGzip(first, labels.substr(0, 6));
  writeBytes(path, readBytes(first) + readBytes(second));
  CHECK(gradc::readIdx(path).bytes == std::vector<uint8_t>{1, 9, 0, 4, 7});
}

// Non-finite data -----------------------------------------------------------

TEST_CASE(".npy float data with NaN or infinity is refused, naming the file",
          "[npy]") {
  TempDir dir;
  std::string path = dir.file("x.npy");
  const float inf = std::numeric_limits<float>::infinity();

  writeBytes(path, npyFile(npyDict("<f4", "(2, 2)"),
                           bytesOf<float>({1, 2, std::nanf(""), 4})));
  CHECK(errorOf([&] { gradc::readNpy(path); }) ==
        path + ": holds nan at flat index 2; the data must be finite");

  writeBytes(path, npyFile(npyDict("<f4", "(2,)"), bytesOf<float>({-inf, 1})));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::StartsWith(path + ": holds -inf at flat index 0"));

  writeBytes(path,
             npyFile(npyDict("<f8", "(2,)"), bytesOf<double>({1, 1e300})));
  CHECK_THAT(errorOf([&] { gradc::readNpy(path); }),
             Catch::Contains("at flat index 1 (or a float64 beyond float32's "
                             "range)"));
}
