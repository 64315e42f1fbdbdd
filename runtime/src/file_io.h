// Internal to tensor_io: the file handling its format readers and writers
// share. Inputs are opened so that nothing blocks and their size is known
// up front, so that every size a file declares can be checked against the
// file before memory is allocated for it; outputs are written through a
// temporary file renamed into place. Every failure throws an IoError that
// names the path.
#ifndef GRADC_RUNTIME_FILE_IO_H
#define GRADC_RUNTIME_FILE_IO_H

#include "tensor_io.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

// Every format tensor_io reads stores its numbers little-endian, and so
// does every target gradc supports; tensor data is therefore copied
// without swapping.
static_assert(std::endian::native == std::endian::little,
              "tensor_io assumes a little-endian host");

namespace gradc {

// Data is read and converted this many bytes at a time.
constexpr size_t kChunkBytes = size_t{1} << 20;

// Throws an IoError whose message starts with the path, so that every
// error says which of the trainer's files it is about.
template <typename... Args>
[[noreturn]] void fail(const std::string &path,
                       fmt::format_string<Args...> format, Args &&...args) {
  throw IoError(fmt::format("{}: {}", path,
                            fmt::format(format, std::forward<Args>(args)...)));
}

// Names the format a file really has when it is not the one expected,
// because handing the wrong file to an option is the common mistake.
std::string guessFormat(const uint8_t *bytes, size_t size);

// A regular file opened for reading, whose size is known up front so that
// every size read from it can be checked before anything is allocated.
class InputFile {
public:
  // Throws unless path is a regular file that can be opened for reading.
  explicit InputFile(std::string path);

  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;
  ~InputFile();

  const std::string &path() const { return path_; }
  uint64_t size() const { return size_; }

  // Reads up to count bytes at offset and returns how many there were.
  size_t readSome(uint64_t offset, void *buffer, size_t count) const;

  // Reads exactly count bytes; only a file that shrinks while it is being
  // read gets here short, since sizes are checked before reading.
  void readExactly(uint64_t offset, void *buffer, size_t count) const;

private:
  std::string path_;
  int descriptor_ = -1;
  uint64_t size_ = 0;
};

// Reads count values stored as Source at offset and converts each into
// Target, a chunk at a time so that no second copy of the data is held.
template <typename Source, typename Target, typename Convert>
void readConverted(const InputFile &file, uint64_t offset, size_t count,
                   Target *output, Convert convert) {
  constexpr size_t chunkValues = kChunkBytes / sizeof(Source);
  std::vector<Source> chunk(std::min(count, chunkValues));
  for (size_t done = 0; done < count;) {
    size_t values = std::min(chunkValues, count - done);
    file.readExactly(offset + done * sizeof(Source), chunk.data(),
                     values * sizeof(Source));
    for (size_t i = 0; i < values; ++i)
      output[done + i] = convert(chunk[i]);
    done += values;
  }
}

// Writes a temporary file next to path and renames it over path on commit,
// so that readers and a crash see either the old file whole or the new one
// whole. A writer destroyed before commit removes its temporary file, as
// does SIGINT, SIGTERM or SIGHUP while it writes (temporary_files.h).
class AtomicFileWriter {
public:
  explicit AtomicFileWriter(std::string path);

  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;
  ~AtomicFileWriter();

  void write(const void *data, size_t size);
  // Flushes what was written and renames it over path; until then the old
  // file, if any, stays as it was.
  void commit();

private:
  std::string path_;
  std::string temporaryPath_;
  int descriptor_ = -1;
  int signalSlot_ = -1; // registerTemporaryFile's
  bool committed_ = false;
};

} // namespace gradc

#endif // GRADC_RUNTIME_FILE_IO_H
