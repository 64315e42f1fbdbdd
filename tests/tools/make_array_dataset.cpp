// Writes small, learnable datasets as .npy and CSV files for end-to-end
// tests of those data forms. usage: make_array_dataset DIR
//   DIR/{train,test}.x.npy  float32 [N, 2, 3]: three classes, class c
//   DIR/{train,test}.y.npy  int64 [N]           shifting features c and c+3
//   DIR/{train,test}-regression.csv  a header, then f0,f1,target,f2,f3,
//                           with Windows line endings,
//                           with target = 1.5 f0 - 2 f1 + 0.5 f2 + f3 +
//                           noise, in the middle column
//   DIR/{train,test}-classes.csv  no header; class id first, then the six
//                           features of the .npy classes
#include "npy_writer.h"

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kTrain = 600;
constexpr int kTest = 300;

struct Classes {
  std::vector<float> x; // count * 6
  std::vector<int64_t> y;
};

Classes drawClasses(int count, std::mt19937 &rng) {
  std::uniform_int_distribution<int> classOf(0, 2);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  Classes data;
  for (int i = 0; i < count; ++i) {
    const int label = classOf(rng);
    data.y.push_back(label);
    for (int feature = 0; feature < 6; ++feature)
      data.x.push_back(noise(rng) + (feature % 3 == label ? 2.5f : 0.0f));
  }
  return data;
}

bool writeSplit(const std::string &dir, const std::string &split, int count,
                std::mt19937 &rng) {
  const Classes classes = drawClasses(count, rng);
  const std::string rows = "(" + std::to_string(count);
  if (!writeNpy(dir + "/" + split + ".x.npy", "<f4", rows + ", 2, 3)",
                classes.x.data(), classes.x.size() * sizeof(float)) ||
      !writeNpy(dir + "/" + split + ".y.npy", "<i8", rows + ",)",
                classes.y.data(), classes.y.size() * sizeof(int64_t)))
    return false;

  std::FILE *file =
      std::fopen((dir + "/" + split + "-classes.csv").c_str(), "w");
  if (!file)
    return false;
  for (int i = 0; i < count; ++i) {
    std::fprintf(file, "%d", static_cast<int>(classes.y[i]));
    for (int feature = 0; feature < 6; ++feature)
      std::fprintf(file, ",%.6g", classes.x[i * 6 + feature]);
    std::fprintf(file, "\n");
  }
  if (std::fclose(file) != 0)
    return false;

  std::normal_distribution<double> value(0.0, 1.0), noise(0.0, 0.05);
  file = std::fopen((dir + "/" + split + "-regression.csv").c_str(), "w");
  if (!file)
    return false;
  std::fprintf(file, "f0,f1,target,f2,f3\r\n");
  for (int i = 0; i < count; ++i) {
    const double f[4] = {value(rng), value(rng), value(rng), value(rng)};
    const double target =
        1.5 * f[0] - 2.0 * f[1] + 0.5 * f[2] + f[3] + noise(rng);
    std::fprintf(file, "%.6g,%.6g,%.6g,%.6g,%.6g\r\n", f[0], f[1], target, f[2],
                 f[3]);
  }
  return std::fclose(file) == 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_array_dataset DIR\n");
    return 1;
  }
  std::mt19937 rng(5);
  if (!writeSplit(argv[1], "train", kTrain, rng) ||
      !writeSplit(argv[1], "test", kTest, rng)) {
    std::fprintf(stderr, "make_array_dataset: cannot write to %s\n", argv[1]);
    return 1;
  }
  return 0;
}
