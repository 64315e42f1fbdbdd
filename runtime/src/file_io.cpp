// Opening input files safely and writing files atomically, for the format
// readers and writers of tensor_io: a FIFO, device or socket is refused
// before it can block or be destroyed, data that would not fit in memory
// is refused before it is read, and a crash never leaves a half-written
// file.
#include "file_io.h"

#include "temporary_files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gradc {
namespace {

std::string describeOpenError(const std::string &path, int error) {
  if (error == EACCES)
    return "permission denied";
  if (error != ENOENT)
    return std::strerror(error);

  // A missing file is most often a typo or a run from another folder, so
  // the message says where a relative path was looked for and points at
  // the compressed or uncompressed twin when only that one exists.
  std::string message = "no such file";
  std::error_code ignored;
  std::string_view gzSuffix = ".gz";
  if (path.ends_with(gzSuffix)) {
    std::string plain = path.substr(0, path.size() - gzSuffix.size());
    if (std::filesystem::exists(plain, ignored))
      return message + fmt::format(" (did you mean {}?)", plain);
  } else if (std::filesystem::exists(path + ".gz", ignored)) {
    return message + fmt::format(" (did you mean {}.gz?)", path);
  }
  if (std::filesystem::path(path).is_relative()) {
    auto folder = std::filesystem::current_path(ignored);
    if (!ignored)
      message += fmt::format(" (relative to {})", folder.string());
  }
  return message;
}

// What a file that is not a regular one is, for messages.
std::string kindOfFile(mode_t mode) {
  if (S_ISDIR(mode))
    return "a folder";
  if (S_ISFIFO(mode))
    return "a FIFO (named pipe)";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "a device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

// A pipe or device has no size to check against, and reading one could
// block or never end.
[[noreturn]] void refuseInput(const std::string &path, mode_t mode) {
  if (S_ISDIR(mode))
    fail(path, "is a folder, not a file");
  fail(path, "is {}, not a regular file; give a file", kindOfFile(mode));
}

// Half of the machine's memory: a data set that needs more leaves no room
// for the model, and a file that claims more is far more often damaged
// than real. Refusing it up front beats being killed half way through.
uint64_t memoryBudget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(pages) / 2 * static_cast<uint64_t>(pageSize);
}

// The folder a file is created in; a bare file name is in the current one.
std::filesystem::path folderOf(const std::string &path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  return folder.empty() ? std::filesystem::path(".") : folder;
}

} // namespace

std::string guessFormat(const uint8_t *bytes, size_t size) {
  auto startsWith = [&](std::string_view magic) {
    return size >= magic.size() &&
           std::memcmp(bytes, magic.data(), magic.size()) == 0;
  };
  if (startsWith("\x1f\x8b"))
    return " (it is gzip-compressed; gunzip it first)";
  if (startsWith("PK\x03\x04"))
    return " (it is a zip archive, such as a PyTorch .pt/.bin file or an "
           ".npz; extract the arrays or save them as .npy or safetensors)";
  if (startsWith("\x93NUMPY"))
    return " (it is a .npy file; pass it with --train-x/--train-y)";
  if (startsWith("\x89HDF"))
    return " (it is an HDF5 file)";
  if (size >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] >= 0x08 &&
      bytes[2] <= 0x0e && bytes[3] >= 1 && bytes[3] <= 4)
    return " (it is an IDX file; pass it with --train-images/--train-labels)";
  if (startsWith("<") || startsWith("\xef\xbb\xbf<"))
    return " (it looks like an HTML page, perhaps a failed download)";
  return "";
}

InputFile::InputFile(std::string path) : path_(std::move(path)) {
  // Opening a FIFO blocks until a writer comes, so the kind of file is
  // checked first, and the open cannot block either (O_NONBLOCK) in case
  // the path changes in between; fstat then checks what was opened.
  // O_NONBLOCK changes nothing for the reads of a regular file.
  checkInputFile(path_);
  descriptor_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (descriptor_ < 0)
    fail(path_, "{}", describeOpenError(path_, errno));

  struct stat status {};
  if (::fstat(descriptor_, &status) != 0) {
    int error = errno;
    ::close(descriptor_);
    fail(path_, "cannot read: {}", std::strerror(error));
  }
  if (!S_ISREG(status.st_mode)) {
    ::close(descriptor_);
    refuseInput(path_, status.st_mode);
  }
  size_ = static_cast<uint64_t>(status.st_size);
}

InputFile::~InputFile() { ::close(descriptor_); }

size_t InputFile::readSome(uint64_t offset, void *buffer, size_t count) const {
  auto *target = static_cast<char *>(buffer);
  size_t done = 0;
  while (done < count) {
    ssize_t got = ::pread(descriptor_, target + done, count - done,
                          static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      fail(path_, "cannot read: {}", std::strerror(errno));
    if (got == 0)
      break;
    done += static_cast<size_t>(got);
  }
  return done;
}

void InputFile::readExactly(uint64_t offset, void *buffer, size_t count) const {
  size_t got = readSome(offset, buffer, count);
  if (got != count)
    fail(path_, "file ended early: expected {} bytes at offset {}, found {}",
         count, offset, got);
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  checkOutputFile(path_);
  // mkostemps makes a new file of a name no one can predict (O_EXCL), so
  // a link planted at a fixed temporary name cannot redirect the write.
  // The name ends in .tmp, so that one left by a crash is recognizable.
  std::string pattern = path_ + ".XXXXXX.tmp";
  descriptor_ = ::mkostemps(pattern.data(), 4, O_CLOEXEC);
  if (descriptor_ < 0) {
    int error = errno;
    std::string reason = std::strerror(error);
    if (error == ENOENT)
      reason =
          fmt::format("the folder {} does not exist", folderOf(path_).string());
    else if (error == EACCES)
      reason = "permission denied";
    fail(path_, "cannot create a temporary file next to it: {}", reason);
  }
  temporaryPath_ = pattern;
  signalSlot_ = registerTemporaryFile(temporaryPath_);
  // mkostemps creates the file for its owner alone; the file being
  // replaced was created as open(2) creates files, 0666 less the umask.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(descriptor_, 0666 & ~mask);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (descriptor_ >= 0)
    ::close(descriptor_);
  if (!committed_)
    ::unlink(temporaryPath_.c_str());
  unregisterTemporaryFile(signalSlot_);
}

void AtomicFileWriter::write(const void *data, size_t size) {
  const auto *source = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t written = ::write(descriptor_, source, size);
    if (written < 0 && errno == EINTR)
      continue;
    if (written < 0)
      fail(path_, "cannot write {}: {}", temporaryPath_, std::strerror(errno));
    source += written;
    size -= static_cast<size_t>(written);
  }
}

void AtomicFileWriter::commit() {
  // The data must be on disk before the rename makes it the file at
  // path; otherwise a crash could leave the new name on empty blocks.
  if (::fsync(descriptor_) != 0)
    fail(path_, "cannot flush {}: {}", temporaryPath_, std::strerror(errno));
  int descriptor = std::exchange(descriptor_, -1);
  if (::close(descriptor) != 0)
    fail(path_, "cannot write {}: {}", temporaryPath_, std::strerror(errno));
  if (::rename(temporaryPath_.c_str(), path_.c_str()) != 0)
    fail(path_, "cannot replace it with {}: {}", temporaryPath_,
         std::strerror(errno));
  committed_ = true;
  unregisterTemporaryFile(std::exchange(signalSlot_, -1));

  // The rename itself lives in the folder, which is flushed so that it
  // survives a power cut. Some file systems refuse to flush a folder;
  // the file is in place by now, so that is not an error.
  int folder =
      ::open(folderOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder >= 0) {
    ::fsync(folder);
    ::close(folder);
  }
}

void checkInputFile(const std::string &path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0)
    fail(path, "{}", describeOpenError(path, errno));
  if (!S_ISREG(status.st_mode))
    refuseInput(path, status.st_mode);
}

void checkOutputFile(const std::string &path) {
  // A path that does not exist yet, or cannot be looked at, is left to the
  // open that follows, which says what is wrong with it.
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0 || S_ISREG(status.st_mode))
    return;
  if (S_ISDIR(status.st_mode))
    fail(path, "is a folder; give a file name");
  fail(path, "is {}, not a regular file; refusing to write over it",
       kindOfFile(status.st_mode));
}

void checkFitsInMemory(const std::string &path, uint64_t bytes,
                       const std::string &what) {
  const uint64_t budget = memoryBudget();
  if (bytes <= budget)
    return;
  constexpr double gib = 1024.0 * 1024.0 * 1024.0;
  fail(path,
       "{} need {:.1f} GiB of memory, more than half of the {:.1f} GiB this "
       "machine has; the file is damaged, or too large to train from here",
       what, static_cast<double>(bytes) / gib,
       static_cast<double>(budget) * 2 / gib);
}

void writeFileAtomically(const std::string &path, const std::string &contents) {
  AtomicFileWriter writer(path);
  writer.write(contents.data(), contents.size());
  writer.commit();
}

} // namespace gradc
