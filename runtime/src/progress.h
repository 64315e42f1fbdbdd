// The progress bar drawn on stderr while an epoch runs, only when stderr is
// a terminal (a log file or a pipe gets the epoch lines alone). It redraws
// at most ten times a second so it costs nothing next to training.
#ifndef GRADC_RUNTIME_PROGRESS_H
#define GRADC_RUNTIME_PROGRESS_H

#include <chrono>
#include <cstdint>

namespace gradc {

class ProgressBar {
public:
  // Draws nothing when disabled or when stderr is not a terminal.
  explicit ProgressBar(bool enabled);

  // Whether it draws at all; when not, a caller need not work out what
  // update() would show.
  bool enabled() const { return enabled_; }
  void update(int64_t epoch, int64_t epochs, int64_t done, int64_t total,
              double loss, double samples_per_second);
  // Erases the bar before the epoch's line is printed.
  void clear();

private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

} // namespace gradc

#endif // GRADC_RUNTIME_PROGRESS_H
