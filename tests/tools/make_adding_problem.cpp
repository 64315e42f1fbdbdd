// Writes the adding problem of Hochreiter and Schmidhuber as .npy files,
// for the models/*_adding.yaml recurrent networks. Each sample is a
// sequence of `steps` pairs: a value drawn from U(0, 1), and a marker that
// is 1 at one position in the first half and one in the second half, 0
// elsewhere. Its target is the sum of the two marked values, so a model
// has to carry the first of them across at least half the sequence.
// Always answering the mean, 1, leaves an mse of 1/6, about 0.167.
// Writes DIR/{train,test}_{x,y}.npy, making DIR if need be: x float32
// [N, steps, 2], y float32 [N, 1]. The same seed writes the same bytes on
// every machine, and each file appears whole or not at all, so runs that
// write the same data at once do not disturb each other's readers.
//
// usage: make_adding_problem DIR [TRAIN TEST STEPS SEED]
//        (defaults: 20000 2000 50 1)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

// splitmix64: a small generator whose output is fixed by its definition,
// unlike the distributions of <random>, whose algorithms each standard
// library chooses.
class Generator {
public:
  explicit Generator(uint64_t seed) : state(seed) {}

  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  // U(0, 1) with 24 random bits, exact in float.
  float uniform() { return static_cast<float>(next() >> 40) / 16777216.0f; }

  // An integer in [0, n) for a small n; the bias of the modulo is below
  // 2^-50.
  int64_t below(int64_t n) {
    return static_cast<int64_t>(next() % static_cast<uint64_t>(n));
  }

private:
  uint64_t state;
};

// A float32 .npy file (format 1.0, C order), written under a name of this
// process's own and renamed, so that a reader never sees half a file.
bool writeNpy(const std::string &path, const std::vector<int64_t> &shape,
              const std::vector<float> &values) {
  std::string dims;
  for (int64_t dim : shape)
    dims += std::to_string(dim) + ",";
  if (shape.size() > 1)
    dims.pop_back();
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6), version (2) and length (2) come first; the header ends in a
  // newline and pads the whole to a multiple of 64 bytes.
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';

  const std::string temporary =
      path + ".partial" + std::to_string(static_cast<long>(getpid()));
  std::FILE *file = std::fopen(temporary.c_str(), "wb");
  if (!file)
    return false;
  const unsigned char prefix[10] = {
      0x93,
      'N',
      'U',
      'M',
      'P',
      'Y',
      1,
      0,
      static_cast<unsigned char>(header.size() & 0xff),
      static_cast<unsigned char>(header.size() >> 8)};
  bool ok =
      std::fwrite(prefix, 1, 10, file) == 10 &&
      std::fwrite(header.data(), 1, header.size(), file) == header.size() &&
      std::fwrite(values.data(), sizeof(float), values.size(), file) ==
          values.size();
  ok = std::fclose(file) == 0 && ok;
  return ok && std::rename(temporary.c_str(), path.c_str()) == 0;
}

bool writeSplit(const std::string &dir, const std::string &split, int64_t count,
                int64_t steps, Generator &generator) {
  std::vector<float> x(static_cast<size_t>(count * steps * 2), 0.0f);
  std::vector<float> y(static_cast<size_t>(count));
  for (int64_t n = 0; n < count; ++n) {
    float *sample = x.data() + n * steps * 2;
    for (int64_t t = 0; t < steps; ++t)
      sample[2 * t] = generator.uniform();
    int64_t first = generator.below(steps / 2);
    int64_t second = steps / 2 + generator.below(steps - steps / 2);
    sample[2 * first + 1] = 1.0f;
    sample[2 * second + 1] = 1.0f;
    y[n] = sample[2 * first] + sample[2 * second];
  }
  return writeNpy(dir + "/" + split + "_x.npy", {count, steps, 2}, x) &&
         writeNpy(dir + "/" + split + "_y.npy", {count, 1}, y);
}

// A positive integer argument, or -1.
int64_t positive(const char *text) {
  char *end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  return *text && *end == '\0' && value > 0 ? value : -1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2 && argc != 6) {
    std::fprintf(stderr,
                 "usage: make_adding_problem DIR [TRAIN TEST STEPS SEED]\n");
    return 1;
  }
  int64_t train = argc == 6 ? positive(argv[2]) : 20000;
  int64_t test = argc == 6 ? positive(argv[3]) : 2000;
  int64_t steps = argc == 6 ? positive(argv[4]) : 50;
  int64_t seed = argc == 6 ? positive(argv[5]) : 1;
  if (train < 0 || test < 0 || steps < 2 || seed < 0) {
    std::fprintf(stderr, "make_adding_problem: counts and the seed must be "
                         "positive integers, and STEPS at least 2\n");
    return 1;
  }

  Generator generator(static_cast<uint64_t>(seed));
  std::error_code error;
  std::filesystem::create_directories(argv[1], error);
  if (!writeSplit(argv[1], "train", train, steps, generator) ||
      !writeSplit(argv[1], "test", test, steps, generator)) {
    std::fprintf(stderr, "make_adding_problem: cannot write to %s\n", argv[1]);
    return 1;
  }
  return 0;
}
