// The registry of temporary files and the signal handler that removes
// them. The handler may only call async-signal-safe functions, so the
// paths live in fixed buffers, each marked in use only once it is whole.
#include "temporary_files.h"

#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>

#include <unistd.h>

namespace gradc {
namespace {

// A trainer writes one file at a time; a few slots leave room to spare.
constexpr int kSlots = 8;
constexpr size_t kPathBytes = 4096;

char paths[kSlots][kPathBytes];
volatile std::sig_atomic_t inUse[kSlots];
std::mutex slotsMutex;

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void removeTemporaryFiles(int signal) {
  // From the last slot to the first, so that the files in a directory,
  // registered after it, are gone when the directory is removed.
  for (int slot = kSlots - 1; slot >= 0; --slot)
    if (inUse[slot] && ::unlink(paths[slot]) != 0)
      ::rmdir(paths[slot]);

  // SA_RESETHAND has restored the default action, and the signal is
  // blocked until this handler returns: then it ends the process.
  ::raise(signal);
}

// Installs the handler for each signal whose action is the default; one
// already installed, or a signal ignored or handled otherwise, is left.
void installHandlers() {
  for (int signal : kSignals) {
    struct sigaction current {};
    if (::sigaction(signal, nullptr, &current) != 0 ||
        current.sa_handler != SIG_DFL)
      continue;
    struct sigaction action {};
    action.sa_handler = removeTemporaryFiles;
    sigemptyset(&action.sa_mask);
    for (int other : kSignals)
      sigaddset(&action.sa_mask, other);
    action.sa_flags = SA_RESETHAND;
    ::sigaction(signal, &action, nullptr);
  }
}

} // namespace

int registerTemporaryFile(const std::string &path) {
  if (path.size() >= kPathBytes)
    return -1;

  std::lock_guard<std::mutex> lock(slotsMutex);
  installHandlers();
  for (int slot = 0; slot < kSlots; ++slot) {
    if (inUse[slot])
      continue;
    std::memcpy(paths[slot], path.c_str(), path.size() + 1);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    inUse[slot] = 1;
    return slot;
  }
  return -1;
}

void unregisterTemporaryFile(int slot) {
  if (slot < 0)
    return;
  std::lock_guard<std::mutex> lock(slotsMutex);
  inUse[slot] = 0;
}

} // namespace gradc
