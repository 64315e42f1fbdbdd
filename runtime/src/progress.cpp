// See progress.h.
#include "progress.h"

#include <cstdio>
#include <fmt/format.h>
#include <string>
#include <unistd.h>

namespace gradc {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

ProgressBar::ProgressBar(bool enabled)
    : enabled_(enabled && isatty(fileno(stderr))) {}

void ProgressBar::update(int64_t epoch, int64_t epochs, int64_t done,
                         int64_t total, double loss,
                         double samples_per_second) {
  if (!enabled_)
    return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total && now - last_draw_ < kRedrawInterval)
    return;
  last_draw_ = now;
  drawn_ = true;

  const int filled =
      total > 0 ? static_cast<int>(kBarWidth * done / total) : kBarWidth;
  const std::string bar =
      std::string(static_cast<size_t>(filled), '#') +
      std::string(static_cast<size_t>(kBarWidth - filled), '.');
  // Each redraw erases what a longer earlier one left behind.
  fmt::print(stderr,
             "\repoch {}/{} [{}] {}/{}  loss {:.4f}  {:.0f} samples/s\033[K",
             epoch, epochs, bar, done, total, loss, samples_per_second);
  std::fflush(stderr);
}

void ProgressBar::clear() {
  if (!drawn_)
    return;
  // Carriage return, then erase to the end of the line.
  fmt::print(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

} // namespace gradc
