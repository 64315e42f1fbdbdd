// The extensions each --target compiles for: the C++ backend's -march
// (haswell for avx2, skylake-avx512 for avx512) and the LLVM backend's
// features, as far as the generated code and kernels use them.
#include "processor_check.h"

#include "errors.h"

#include <fmt/core.h>
#include <string_view>
#include <utility>
#include <vector>

namespace gradc {

std::string missingExtensions(const std::string &target,
                              const std::function<bool(const char *)> &has) {
  std::vector<const char *> needed;
  if (target == "avx2" || target == "avx512")
    needed = {"avx", "avx2", "fma", "bmi", "bmi2"};
  if (target == "avx512")
    for (const char *extension :
         {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})
      needed.push_back(extension);

  std::string missing;
  for (const char *extension : needed)
    if (!has(extension))
      missing += (missing.empty() ? "" : ", ") + std::string(extension);
  return missing;
}

void checkProcessorFor(const std::string &target) {
  // __builtin_cpu_supports takes a string literal only, hence the table.
  // Elsewhere than on x86 no target needs these extensions.
#if defined(__x86_64__) || defined(__i386__)
  const std::pair<const char *, bool> extensions[] = {
      {"avx", __builtin_cpu_supports("avx")},
      {"avx2", __builtin_cpu_supports("avx2")},
      {"fma", __builtin_cpu_supports("fma")},
      {"bmi", __builtin_cpu_supports("bmi")},
      {"bmi2", __builtin_cpu_supports("bmi2")},
      {"avx512f", __builtin_cpu_supports("avx512f")},
      {"avx512cd", __builtin_cpu_supports("avx512cd")},
      {"avx512bw", __builtin_cpu_supports("avx512bw")},
      {"avx512dq", __builtin_cpu_supports("avx512dq")},
      {"avx512vl", __builtin_cpu_supports("avx512vl")},
  };
  auto has = [&extensions](const char *name) {
    for (const auto &[extension, present] : extensions)
      if (std::string_view(extension) == name)
        return present;
    return false;
  };
#else
  auto has = [](const char *) { return true; };
#endif

  const std::string missing = missingExtensions(target, has);
  if (!missing.empty())
    throw UserError(
        fmt::format("this trainer was built for --target {}, but this "
                    "processor lacks {}",
                    target, missing),
        "build it again with gradc's --target native (or avx2, or "
        "generic) on this machine");
}

} // namespace gradc
