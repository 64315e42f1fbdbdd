// Tests that every reader, given a valid file cut short or damaged at any
// byte, either reads it or throws an IoError: never crashes or hangs.
#include "tensor_io.h"

#include <catch2/catch.hpp>

#include "temp_dir.h"
#include "tensor_io_test_support.h"

#include <cstdint>
#include <functional>
#include <string>

using gradc::HostTensor;
using gradc::IoError;
using gradc::SafeTensors;
using namespace tensor_io_test;

namespace {

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

} // namespace

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
