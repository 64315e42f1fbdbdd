// Whether this processor can run the code gradc generated for the
// trainer's --target. Code built for AVX-512 on a processor without it
// dies of an illegal instruction, with no word of why; the trainer says
// so before it starts instead.
#ifndef GRADC_RUNTIME_PROCESSOR_CHECK_H
#define GRADC_RUNTIME_PROCESSOR_CHECK_H

#include <functional>
#include <string>

namespace gradc {

// The instruction set extensions `target` ("avx2", "avx512") needs that
// `has` says the processor lacks, in GCC's __builtin_cpu_supports names,
// joined by ", "; empty when it has them all, and for "generic" and
// "native" (built for the machine that compiled it, whose extensions are
// not recorded).
std::string missingExtensions(const std::string &target,
                              const std::function<bool(const char *)> &has);

// Throws a UserError naming the missing extensions, if any, of this
// processor for `target`.
void checkProcessorFor(const std::string &target);

} // namespace gradc

#endif // GRADC_RUNTIME_PROCESSOR_CHECK_H
