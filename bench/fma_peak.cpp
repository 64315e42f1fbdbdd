// The machine's single-precision FMA peak, for bench/run.sh: a variant of
// the reference FMA-peak program that builds on any x86-64 (the AVX-512
// and AVX2 variants only where -march=native enables them), takes its
// length from the command line, and runs on one thread and on all of them.
// Independent accumulator chains cover the FMA latency on both ports.
// Build: c++ -O3 -march=native -fopenmp -o fma_peak fma_peak.cpp
// Run:   ./fma_peak [reps] [millions of iterations per rep]
// Prints one line per variant and thread count:
//   fma isa=avx512 chains=16 threads=1 gflops=... min=... max=...
//       percore=... share=... reps=...
#include <immintrin.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

namespace {

#ifdef __AVX512F__
template <int CHAINS>
__attribute__((noinline)) float kernelZmm(long iters, float seed) {
  __m512 acc[CHAINS];
  for (int i = 0; i < CHAINS; i++)
    acc[i] = _mm512_set1_ps(seed + i * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f);
  const __m512 b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 32
    for (int i = 0; i < CHAINS; i++)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < CHAINS; i++)
    s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}
#endif

#ifdef __AVX2__
template <int CHAINS>
__attribute__((noinline)) float kernelYmm(long iters, float seed) {
  __m256 acc[CHAINS];
  for (int i = 0; i < CHAINS; i++)
    acc[i] = _mm256_set1_ps(seed + i * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 32
    for (int i = 0; i < CHAINS; i++)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < CHAINS; i++)
    s = _mm256_add_ps(s, acc[i]);
  float t[8];
  _mm256_storeu_ps(t, s);
  float r = 0;
  for (float v : t)
    r += v;
  return r;
}
#endif

int threadCount() {
#ifdef _OPENMP
  return omp_get_num_procs();
#else
  return 1;
#endif
}

int threadId() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

double threadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// gflops: by the wall clock, what the threads got done together. percore:
// by the threads' own CPU time, what one core does while it runs (the
// figure other processes on the machine disturb least). share: the CPU
// time the threads got, over wall time x threads.
template <typename F>
void run(const char *isa, F f, int chains, int lanes, int threads, int reps,
         long iters) {
  std::vector<double> g, core, share;
  volatile float sink = 0;
  for (int r = 0; r < reps + 1; r++) { // the first rep warms up
    auto t0 = std::chrono::steady_clock::now();
    float local = 0;
    double cpu = 0;
#pragma omp parallel num_threads(threads) reduction(+ : local, cpu)
    {
      double c0 = threadSeconds();
      local += f(iters, 1.0f + threadId());
      cpu += threadSeconds() - c0;
    }
    auto t1 = std::chrono::steady_clock::now();
    sink = sink + local;
    double s = std::chrono::duration<double>(t1 - t0).count();
    double flops = 2.0 * lanes * chains * (double)iters * threads;
    if (r > 0) {
      g.push_back(flops / s / 1e9);
      core.push_back(flops / cpu / 1e9);
      share.push_back(cpu / (s * threads));
    }
  }
  std::printf("fma isa=%s chains=%d threads=%d gflops=%.1f min=%.1f "
              "max=%.1f percore=%.1f share=%.2f reps=%d\n",
              isa, chains, threads, median(g),
              *std::min_element(g.begin(), g.end()),
              *std::max_element(g.begin(), g.end()), median(core),
              median(share), reps);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  long iters = (argc > 2 ? std::atol(argv[2]) : 50) * 1000000L;
  if (reps < 1 || iters < 1) {
    std::fprintf(stderr, "usage: fma_peak [reps] [millions of iters]\n");
    return 1;
  }
  int all = threadCount();
  std::vector<int> counts{1};
  if (all > 1)
    counts.push_back(all);
  for (int t : counts) {
#ifdef __AVX512F__
    run("avx512", kernelZmm<8>, 8, 16, t, reps, iters);
    run("avx512", kernelZmm<16>, 16, 16, t, reps, iters);
#endif
#ifdef __AVX2__
    run("avx2", kernelYmm<8>, 8, 8, t, reps, iters);
    run("avx2", kernelYmm<12>, 12, 8, t, reps, iters);
#endif
#if !defined(__AVX2__)
    std::printf("fma isa=none threads=%d: no AVX2 or AVX-512 here\n", t);
#endif
  }
  return 0;
}
