// Tests of .npy reading and writing: round trips, conversions from every
// supported dtype, labels, and damaged or hostile files, which must end in
// an IoError naming the file.
#include "tensor_io.h"

#include <catch2/catch.hpp>

#include "temp_dir.h"
#include "tensor_io_test_support.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using gradc::HostTensor;
using namespace tensor_io_test;

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
