// A fresh folder for one test's files, removed with everything in it.
#ifndef GRADC_TESTS_TEMP_DIR_H
#define GRADC_TESTS_TEMP_DIR_H

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>

class TempDir {
public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device entropy;
    path_ = std::filesystem::temp_directory_path() /
            ("gradc-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter++) + "-" + std::to_string(entropy()));
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  std::string file(const std::string &name) const {
    return (path_ / name).string();
  }
  const std::filesystem::path &path() const { return path_; }

private:
  std::filesystem::path path_;
};

#endif // GRADC_TESTS_TEMP_DIR_H
