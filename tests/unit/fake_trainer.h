// Running the fake trainer (fake_model.cpp) through its command line, as a
// user would, in a folder of its own, and writing the small IDX data sets
// it trains on; shared by the tests that drive it.
#ifndef GRADC_TESTS_FAKE_TRAINER_H
#define GRADC_TESTS_FAKE_TRAINER_H

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace fake_trainer {

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

inline std::string readText(const std::filesystem::path &path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

inline std::vector<std::string> lines(const std::string &text) {
  std::vector<std::string> result;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);)
    result.push_back(line);
  return result;
}

// A fresh folder named after the test.
class Workspace {
public:
  explicit Workspace(const std::string &name)
      : dir_(std::filesystem::path(GRADC_TEST_WORK_DIR) / name) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  std::string file(const std::string &name) const {
    return (dir_ / name).string();
  }

  // Runs the fake trainer with `args` (and environment assignments in
  // `env`, such as "GRADC_FAKE_LOSS=mse"). A run that hangs is stopped
  // after two minutes, with the status 124 of timeout(1).
  Outcome run(const std::string &args, const std::string &env = "") const {
    const std::string out = file("stdout.txt");
    const std::string err = file("stderr.txt");
    const std::string command =
        "cd '" + dir_.string() + "' && timeout 120 env " + env + " '" +
        GRADC_FAKE_TRAINER + "' " + args + " > '" + out + "' 2> '" + err + "'";
    const int raw = std::system(command.c_str());
    Outcome outcome;
    outcome.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    outcome.out = readText(out);
    outcome.err = readText(err);
    return outcome;
  }

private:
  std::filesystem::path dir_;
};

inline void writeBigEndian(std::ofstream &file, uint32_t value) {
  const char bytes[4] = {
      static_cast<char>(value >> 24), static_cast<char>(value >> 16),
      static_cast<char>(value >> 8), static_cast<char>(value)};
  file.write(bytes, 4);
}

// IDX: magic 0x0000 08 <rank> (unsigned bytes), big-endian dims, bytes.
inline void writeIdx(const std::string &path, const std::vector<uint32_t> &dims,
                     const std::vector<uint8_t> &bytes) {
  std::ofstream file(path, std::ios::binary);
  writeBigEndian(file, 0x00000800u | static_cast<uint32_t>(dims.size()));
  for (uint32_t dim : dims)
    writeBigEndian(file, dim);
  file.write(reinterpret_cast<const char *>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

// `count` 2x2 images of 3 classes: class c lights pixel c, pixel 3 is
// noise. A small linear-congruential generator keeps it reproducible.
inline void writeDataset(const Workspace &work, const std::string &split,
                         uint32_t count, uint32_t seed) {
  std::vector<uint8_t> images;
  std::vector<uint8_t> labels;
  uint32_t state = seed;
  auto noise = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<int>((state >> 24) % 60);
  };
  for (uint32_t i = 0; i < count; ++i) {
    const auto label = static_cast<uint8_t>(i % 3);
    labels.push_back(label);
    for (int pixel = 0; pixel < 4; ++pixel)
      images.push_back(
          static_cast<uint8_t>((pixel == label ? 180 : 20) + noise()));
  }
  writeIdx(work.file(split + "-images.idx"), {count, 2, 2}, images);
  writeIdx(work.file(split + "-labels.idx"), {count}, labels);
}

inline std::string dataArgs() {
  return "--train-images train-images.idx --train-labels train-labels.idx "
         "--test-images test-images.idx --test-labels test-labels.idx";
}

// An int64 .npy, which tensor_io reads but does not write.
inline void writeInt64Npy(const std::string &path,
                          const std::vector<int64_t> &values) {
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (" +
                       std::to_string(values.size()) + ",), }";
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::ofstream file(path, std::ios::binary);
  file.write("\x93NUMPY\x01\x00", 8);
  const char length[2] = {static_cast<char>(header.size() & 0xff),
                          static_cast<char>(header.size() >> 8)};
  file.write(length, 2);
  file << header;
  file.write(reinterpret_cast<const char *>(values.data()),
             static_cast<std::streamsize>(values.size() * sizeof(int64_t)));
}

} // namespace fake_trainer

#endif // GRADC_TESTS_FAKE_TRAINER_H
