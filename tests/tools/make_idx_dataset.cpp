// Writes a small, learnable image dataset in IDX format for end-to-end
// tests: 8x8 images of 4 classes, each class lighting one quadrant, with
// noise. usage: make_idx_dataset DIR [TRAIN_COUNT TEST_COUNT]
// Writes DIR/{train,test}-{images,labels}.idx.
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

void writeBigEndian(std::FILE *file, uint32_t value) {
  unsigned char bytes[4] = {
      static_cast<unsigned char>(value >> 24),
      static_cast<unsigned char>(value >> 16),
      static_cast<unsigned char>(value >> 8),
      static_cast<unsigned char>(value)};
  std::fwrite(bytes, 1, 4, file);
}

bool writeIdx(const std::string &path, const std::vector<uint32_t> &dims,
              const std::vector<unsigned char> &bytes) {
  std::FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    return false;
  unsigned char magic[4] = {0, 0, 0x08,
                            static_cast<unsigned char>(dims.size())};
  std::fwrite(magic, 1, 4, file);
  for (uint32_t dim : dims)
    writeBigEndian(file, dim);
  std::fwrite(bytes.data(), 1, bytes.size(), file);
  return std::fclose(file) == 0;
}

bool writeSplit(const std::string &dir, const std::string &split, int count,
                std::mt19937 &rng) {
  std::uniform_int_distribution<int> classOf(0, 3), noise(0, 60);
  std::vector<unsigned char> images, labels;
  for (int i = 0; i < count; ++i) {
    int label = classOf(rng);
    labels.push_back(static_cast<unsigned char>(label));
    for (int row = 0; row < 8; ++row)
      for (int column = 0; column < 8; ++column) {
        int quadrant = (row / 4) * 2 + column / 4;
        int value = noise(rng) + (quadrant == label ? 150 : 0);
        images.push_back(static_cast<unsigned char>(value));
      }
  }
  uint32_t n = static_cast<uint32_t>(count);
  return writeIdx(dir + "/" + split + "-images.idx", {n, 8, 8}, images) &&
         writeIdx(dir + "/" + split + "-labels.idx", {n}, labels);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: make_idx_dataset DIR [TRAIN TEST]\n");
    return 1;
  }
  int train = argc == 4 ? std::stoi(argv[2]) : 512;
  int test = argc == 4 ? std::stoi(argv[3]) : 256;
  std::mt19937 rng(11);
  if (!writeSplit(argv[1], "train", train, rng) ||
      !writeSplit(argv[1], "test", test, rng)) {
    std::fprintf(stderr, "make_idx_dataset: cannot write to %s\n", argv[1]);
    return 1;
  }
  return 0;
}
