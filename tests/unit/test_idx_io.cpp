// Tests of reading IDX files, plain and gzip-compressed: round trips,
// short, long, damaged or hostile files, and gzip streams with bytes after
// their end, which must end in an IoError naming the file.
#include "tensor_io.h"

#include <catch2/catch.hpp>

#include "temp_dir.h"
#include "tensor_io_test_support.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace tensor_io_test;

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
