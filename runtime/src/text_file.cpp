// See text_file.h.
#include "text_file.h"

#include "errors.h"
#include "tensor_io.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gradc {

TextFile::TextFile(std::string path, bool append) : path_(std::move(path)) {
  const std::string hint = "give the path of a regular file";
  try {
    checkOutputFile(path_);
  } catch (const IoError &failure) {
    throw UserError(fmt::format("cannot write {}", failure.what()), hint);
  }
  // Opened without blocking and checked again, in case the path became a
  // FIFO since; truncated only then, so that nothing but a regular file is
  // ever truncated.
  const int flags =
      O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC | (append ? O_APPEND : 0);
  const int descriptor = ::open(path_.c_str(), flags, 0666);
  if (descriptor < 0)
    throw UserError(
        fmt::format("cannot write '{}': {}", path_, std::strerror(errno)),
        "check that its folder exists and is writable");
  struct stat status {};
  if (::fstat(descriptor, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(descriptor);
    throw UserError(
        fmt::format("cannot write '{}': it is not a regular file", path_),
        hint);
  }
  if ((!append && ::ftruncate(descriptor, 0) != 0) ||
      ::fcntl(descriptor, F_SETFL, append ? O_APPEND : 0) != 0 ||
      (file_ = ::fdopen(descriptor, append ? "a" : "w")) == nullptr) {
    const int error = errno;
    ::close(descriptor);
    throw UserError(
        fmt::format("cannot write '{}': {}", path_, std::strerror(error)),
        "check that its folder exists and is writable");
  }
  std::fseek(file_, 0, SEEK_END);
  starts_empty_ = std::ftell(file_) <= 0;
}

TextFile::~TextFile() {
  if (file_)
    std::fclose(file_);
}

void TextFile::write(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() ||
      std::fflush(file_) != 0)
    throw UserError(
        fmt::format("cannot write '{}': {}", path_, std::strerror(errno)),
        "is the disk full?");
}

} // namespace gradc
