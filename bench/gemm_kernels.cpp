// GFLOP/s of gradc's matrix kernels (gradc::matmulNT, matmulNN and
// matmulTN of runtime/include/gradc/kernels.h) at the products a chain of
// dense layers makes in one training step, for bench/run.sh. It includes
// the header and links nothing else.
// Build: c++ -std=c++20 -O3 -march=native [-fopenmp] -I runtime/include
//        -o gemm_kernels bench/gemm_kernels.cpp
// Run:   ./gemm_kernels [-s SECONDS] [-r REPS] BATCH D0 D1 ... Dn
//        (D0 the input width, Dn the output's; bench.py reads them from
//        the model file; SECONDS per timed sample, 0.2 by default; REPS
//        samples, 5), e.g. ./gemm_kernels 256 784 256 128 10
// For layer i (K = D(i) inputs, N = D(i+1) units, M = BATCH samples):
//   matmulNT(M, N, K)  forward,        y[M,N]  = x[M,K] w[N,K]^T
//   matmulNN(M, N, K)  input gradient, dx[M,K] = dy[M,N] w[N,K]
//                      (not for the first layer: the data need none)
//   matmulTN(M, N, K)  weight gradient, dw[N,K] = dy[M,N]^T x[M,K]
// as the generated code calls them. Prints one line per product and one
// for the whole step's products run back to back:
//   gemm kernel=matmulNT M=256 N=256 K=784 gflops=... min=... max=...
//        cpu_gflops=... threads=...
// gflops is by the wall clock; cpu_gflops divides by the process's CPU
// time instead, which other processes on the machine disturb less.
#include <gradc/aligned_vector.h>
#include <gradc/kernels.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

struct Product {
  std::string kernel;
  int64_t M, N, K;
  // Cache-line aligned, as the trainers' buffers are.
  gradc::AlignedVector<float> a, b, c;
};

double cpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

double wallSeconds() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch())
      .count();
}

void call(Product &p) {
  if (p.kernel == "matmulNT")
    gradc::matmulNT<float>(p.M, p.N, p.K, p.a.data(), p.b.data(),
                           p.c.data());
  else if (p.kernel == "matmulNN")
    gradc::matmulNN<float>(p.M, p.N, p.K, p.a.data(), p.b.data(),
                           p.c.data());
  else
    gradc::matmulTN<float>(p.M, p.N, p.K, p.a.data(), p.b.data(),
                           p.c.data());
}

// Operand sizes as the kernels read them: NT x[M,K] w[N,K] -> y[M,N];
// NN dy[M,N] w[N,K] -> dx[M,K]; TN dy[M,N] x[M,K] -> dw[N,K].
Product make(const std::string &kernel, int64_t M, int64_t N, int64_t K,
             std::mt19937 &rng) {
  Product p{kernel, M, N, K, {}, {}, {}};
  std::uniform_real_distribution<float> u(-1, 1);
  auto fill = [&](gradc::AlignedVector<float> &v, int64_t n) {
    v.resize(static_cast<size_t>(n));
    for (float &x : v)
      x = u(rng);
  };
  if (kernel == "matmulNT") {
    fill(p.a, M * K), fill(p.b, N * K), fill(p.c, M * N);
  } else if (kernel == "matmulNN") {
    fill(p.a, M * N), fill(p.b, N * K), fill(p.c, M * K);
  } else {
    fill(p.a, M * N), fill(p.b, M * K), fill(p.c, N * K);
  }
  return p;
}

// A few elements against a plain loop, so that a figure is never that of
// a call that computes something else.
bool check(Product &p) {
  call(p);
  const int64_t M = p.M, N = p.N, K = p.K;
  for (int probe = 0; probe < 5; ++probe) {
    double want = 0, got = 0, scale = 0;
    if (p.kernel == "matmulNT") {
      int64_t i = (probe * 7919) % M, j = (probe * 104729) % N;
      for (int64_t k = 0; k < K; ++k) {
        want += double(p.a[i * K + k]) * p.b[j * K + k];
        scale += std::fabs(double(p.a[i * K + k]) * p.b[j * K + k]);
      }
      got = p.c[i * N + j];
    } else if (p.kernel == "matmulNN") {
      int64_t i = (probe * 7919) % M, k = (probe * 104729) % K;
      for (int64_t j = 0; j < N; ++j) {
        want += double(p.a[i * N + j]) * p.b[j * K + k];
        scale += std::fabs(double(p.a[i * N + j]) * p.b[j * K + k]);
      }
      got = p.c[i * K + k];
    } else {
      int64_t j = (probe * 7919) % N, k = (probe * 104729) % K;
      for (int64_t i = 0; i < M; ++i) {
        want += double(p.a[i * N + j]) * p.b[i * K + k];
        scale += std::fabs(double(p.a[i * N + j]) * p.b[i * K + k]);
      }
      got = p.c[j * K + k];
    }
    if (std::fabs(got - want) > 1e-4 * (scale + 1))
      return false;
  }
  return true;
}

int threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Times `body` (doing `flops` each call): a warm-up, then `reps` samples
// of as many calls as last about `seconds`; prints the median.
void measure(const std::string &label, double flops,
             const std::function<void()> &body, double seconds, int reps) {
  body();
  int64_t calls = 1;
  for (;;) { // calibrate, which also warms up
    double t0 = wallSeconds();
    for (int64_t i = 0; i < calls; ++i)
      body();
    if (wallSeconds() - t0 >= seconds / 4 || calls >= (1 << 24))
      break;
    calls *= 2;
  }
  calls *= 4;
  std::vector<double> wall, cpu;
  for (int r = 0; r < reps; ++r) {
    double t0 = wallSeconds(), c0 = cpuSeconds();
    for (int64_t i = 0; i < calls; ++i)
      body();
    double w = wallSeconds() - t0, c = cpuSeconds() - c0;
    wall.push_back(flops * calls / w / 1e9);
    cpu.push_back(flops * calls / c / 1e9 * threads());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("gemm %s gflops=%.2f min=%.2f max=%.2f cpu_gflops=%.2f "
              "threads=%d calls=%lld reps=%d\n",
              label.c_str(), wall[wall.size() / 2], wall.front(),
              wall.back(), cpu[cpu.size() / 2], threads(),
              static_cast<long long>(calls), reps);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int64_t> numbers;
  double seconds = 0.2;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-s" && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (arg == "-r" && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else
      numbers.push_back(std::atoll(argv[i]));
  }
  bool positive = std::all_of(numbers.begin(), numbers.end(),
                              [](int64_t n) { return n > 0; });
  if (numbers.size() < 3 || !positive || reps < 1 || seconds <= 0) {
    std::fprintf(stderr, "usage: gemm_kernels [-s SECONDS] [-r REPS] "
                         "BATCH D0 D1 ... Dn\n");
    return 1;
  }
  const int64_t M = numbers[0];
  std::mt19937 rng(1);
  std::vector<Product> step;
  for (size_t layer = 1; layer + 1 < numbers.size(); ++layer) {
    int64_t K = numbers[layer], N = numbers[layer + 1];
    step.push_back(make("matmulNT", M, N, K, rng));
    if (layer > 1)
      step.push_back(make("matmulNN", M, N, K, rng));
    step.push_back(make("matmulTN", M, N, K, rng));
  }
  double total = 0;
  for (Product &p : step) {
    if (!check(p)) {
      std::printf("gemm kernel=%s M=%lld N=%lld K=%lld WRONG RESULT\n",
                  p.kernel.c_str(), static_cast<long long>(p.M),
                  static_cast<long long>(p.N), static_cast<long long>(p.K));
      return 1;
    }
    double flops = 2.0 * p.M * p.N * p.K;
    total += flops;
    char label[128];
    std::snprintf(label, sizeof label, "kernel=%s M=%lld N=%lld K=%lld",
                  p.kernel.c_str(), static_cast<long long>(p.M),
                  static_cast<long long>(p.N), static_cast<long long>(p.K));
    measure(label, flops, [&p] { call(p); }, seconds, reps);
  }
  measure("kernel=step M=" + std::to_string(M) + " N=0 K=0", total,
          [&step] {
            for (Product &p : step)
              call(p);
          },
          seconds, reps);
  return 0;
}
