// Tests of the file handling every format shares: missing files named with
// a hint, FIFOs refused without blocking, and atomic replacement that
// leaves no temporary file behind and makes files as open(2) would.
#include "csv_reader.h"
#include "file_io.h"
#include "tensor_io.h"

#include <catch2/catch.hpp>

#include "temp_dir.h"
#include "tensor_io_test_support.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <csignal>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using gradc::HostTensor;
using gradc::SafeTensors;
using namespace tensor_io_test;

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

TEST_CASE("a signal during an atomic write removes its temporary file",
          "[atomic]") {
  TempDir dir;
  const std::string path = dir.file("checkpoint.safetensors");
  gradc::writeFileAtomically(path, "old");

  // A child writes half a file and is ended by SIGTERM (or SIGINT), as
  // `kill` or `timeout` ends a trainer in the middle of a save. The test
  // runner handles these signals itself, so the child first restores
  // their default action, which a trainer starts with.
  for (int signal : {SIGTERM, SIGINT}) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::signal(signal, SIG_DFL);
      gradc::AtomicFileWriter writer(path);
      writer.write("half of it", 10);
      ::raise(signal);
      ::_exit(0); // not reached
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == signal);
    CHECK_FALSE(hasTemporaryFiles(dir.path()));
    CHECK(readBytes(path) == "old");
  }
}
