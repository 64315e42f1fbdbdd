// See text_file.h.
#include "text_file.h"

#include "errors.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace gradc {

TextFile::TextFile(std::string path, bool append) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), append ? "a" : "w");
  if (!file_)
    throw UserError(
        fmt::format("cannot write '{}': {}", path_, std::strerror(errno)),
        "check that its folder exists and is writable");
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
