// Tests of safetensors reading and writing: round trips with metadata,
// conversions from every supported dtype, reading only the tensors wanted,
// and damaged or hostile headers, which must end in an IoError naming the
// file.
#include "tensor_io.h"

#include <catch2/catch.hpp>

#include "temp_dir.h"
#include "tensor_io_test_support.h"

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using gradc::HostTensor;
using gradc::SafeTensors;
using namespace tensor_io_test;

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
