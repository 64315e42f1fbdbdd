// A log file written line by line while training runs (metrics, gradient
// norms), flushed after every write so that a run that stops early leaves
// everything it logged so far. Checkpoints and tensors go through
// tensor_io instead, which writes them atomically.
#ifndef GRADC_RUNTIME_TEXT_FILE_H
#define GRADC_RUNTIME_TEXT_FILE_H

#include <cstdio>
#include <string>
#include <string_view>

namespace gradc {

class TextFile {
public:
  // Truncates the file, or appends to it (a resumed run continues its
  // logs). Throws UserError when it cannot be opened.
  TextFile(std::string path, bool append);
  ~TextFile();
  TextFile(const TextFile &) = delete;
  TextFile &operator=(const TextFile &) = delete;

  // True when the file held nothing before this run, so a header is due.
  bool startsEmpty() const { return starts_empty_; }

  void write(std::string_view text);

private:
  std::string path_;
  std::FILE *file_ = nullptr;
  bool starts_empty_ = true;
};

} // namespace gradc

#endif // GRADC_RUNTIME_TEXT_FILE_H
