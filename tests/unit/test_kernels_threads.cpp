// The kernels split their loops over threads (runtime/include/gradc/
// parallel.h) without changing any sum's order: every kernel that can run
// in parallel gives the same bits on 1, 2 and 3 threads. The shapes are
// large enough to pass the least work worth a parallel region, and odd
// enough to leave partial panels, partial row blocks and uneven splits.
#include <gradc/float_mode.h>
#include <gradc/kernels.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

std::vector<float> randomFloats(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(static_cast<size_t>(count));
  for (float &value : values)
    value = normal(rng);
  return values;
}

bool sameBits(const std::vector<float> &x, const std::vector<float> &y) {
  return x.size() == y.size() &&
         std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// Runs `compute` on 1, 2 and 3 threads; each run must write the same bits
// into the vector it returns.
void checkSameOnAnyThreads(const std::function<std::vector<float>()> &compute) {
  const int before = gradc::availableThreads();
  gradc::setThreads(1);
  const std::vector<float> one = compute();
  for (int threads : {2, 3}) {
    INFO(threads << " threads");
    gradc::setThreads(threads);
    CHECK(sameBits(compute(), one));
  }
  gradc::setThreads(before);
}

} // namespace

TEST_CASE("OpenMP is on in the runtime's kernels", "[kernels][threads]") {
#ifdef _OPENMP
  gradc::setThreads(3);
  CHECK(gradc::availableThreads() == 3);
  int seen = 0;
  gradc::parallelRanges(3, gradc::kParallelMinWork,
                        [&](int64_t first, int64_t last) {
#pragma omp atomic
                          seen += static_cast<int>(last - first);
                        });
  CHECK(seen == 3);
#else
  FAIL("the unit tests are built without OpenMP");
#endif
}

TEST_CASE("parallelRanges covers every item once, in contiguous ranges",
          "[kernels][threads]") {
  for (int threads : {1, 2, 3, 7}) {
    gradc::setThreads(threads);
    for (int64_t items : {1, 2, 5, 1000}) {
      std::vector<int> hits(static_cast<size_t>(items), 0);
      gradc::parallelRanges(items, gradc::kParallelMinWork,
                            [&](int64_t first, int64_t last) {
                              for (int64_t i = first; i < last; ++i)
                                ++hits[static_cast<size_t>(i)];
                            });
      CHECK(hits == std::vector<int>(static_cast<size_t>(items), 1));
    }
  }
}

TEST_CASE("matrix products give the same bits on any number of threads",
          "[kernels][threads]") {
  // M, N, K with N spanning partial panels and M partial row blocks.
  const int64_t M = 67, N = 203, K = 131;
  const auto x = randomFloats(M * K, 1), w = randomFloats(N * K, 2);
  const auto dy = randomFloats(M * N, 3);
  checkSameOnAnyThreads([&] {
    std::vector<float> y(M * N);
    gradc::matmulNT<float>(M, N, K, x.data(), w.data(), y.data());
    return y;
  });
  checkSameOnAnyThreads([&] {
    std::vector<float> dx(M * K);
    gradc::matmulNN<float>(M, N, K, dy.data(), w.data(), dx.data());
    return dx;
  });
  checkSameOnAnyThreads([&] {
    std::vector<float> dw(N * K);
    gradc::matmulTN<float>(M, N, K, dy.data(), x.data(), dw.data());
    return dw;
  });
  // One output row (a batch of one) and one panel (a narrow head).
  checkSameOnAnyThreads([&] {
    std::vector<float> y(1 * 4000);
    gradc::matmulNT<float>(1, 4000, 300, x.data(),
                           randomFloats(4000 * 300, 4).data(), y.data());
    return y;
  });
  checkSameOnAnyThreads([&] {
    std::vector<float> y(3000 * 10);
    gradc::matmulNT<float>(3000, 10, 40, randomFloats(3000 * 40, 5).data(),
                           w.data(), y.data());
    return y;
  });
  // Two rows and a narrow head, deep enough to split: the threads take
  // the rows, and a third thread has none.
  const int64_t deep = 100000;
  checkSameOnAnyThreads([&] {
    std::vector<float> y(2 * 10);
    gradc::matmulNT<float>(2, 10, deep, randomFloats(2 * deep, 6).data(),
                           randomFloats(10 * deep, 7).data(), y.data());
    return y;
  });
}

TEST_CASE("products by a prepacked B give run()'s bits on any number of "
          "threads",
          "[kernels][threads]") {
  using Gemm = gradc::detail::Gemm<float>;
  // One row (a batch of one) and 67, each deep enough to split; whether
  // the threads take panels or rows depends on the target's vectors.
  const int64_t N = 203, K = 5200;
  const auto w = randomFloats(N * K, 8);
  gradc::AlignedVector<float> packed;
  Gemm::pack(N, K, w.data(), K, true, packed);
  for (int64_t M : {int64_t{1}, int64_t{67}}) {
    INFO(M << " rows");
    const auto x = randomFloats(M * K, 9);
    auto product = [&](bool prepacked) {
      std::vector<float> y(M * N);
      if (prepacked)
        Gemm::runPacked(M, N, K, x.data(), K, false, packed.data(), y.data(),
                        N);
      else
        Gemm::run(M, N, K, x.data(), K, false, w.data(), K, true, y.data(), N);
      return y;
    };
    CHECK(sameBits(product(true), product(false)));
    checkSameOnAnyThreads([&] { return product(true); });
  }
}

TEST_CASE("convolutions and pools give the same bits on any number of "
          "threads",
          "[kernels][threads]") {
  const int64_t B = 8;
  const gradc::WindowShape conv{3, 17, 15, 20, 17, 15, 3, 1, 1, 1};
  const int64_t inSize = B * 3 * 17 * 15, outSize = B * 20 * 17 * 15;
  const auto x = randomFloats(inSize, 6), w = randomFloats(20 * 3 * 9, 7);
  const auto dy = randomFloats(outSize, 8);
  checkSameOnAnyThreads([&] {
    std::vector<float> y(outSize);
    gradc::conv2d<float>(B, conv, x.data(), w.data(), y.data());
    return y;
  });
  checkSameOnAnyThreads([&] {
    std::vector<float> dw(20 * 3 * 9);
    gradc::conv2dWeightGrad<float>(B, conv, dy.data(), x.data(), dw.data());
    return dw;
  });
  checkSameOnAnyThreads([&] {
    std::vector<float> dx(inSize);
    gradc::conv2dInputGrad<float>(B, conv, dy.data(), w.data(), dx.data());
    return dx;
  });
  // One sample: the product itself splits.
  const gradc::WindowShape wide{3, 32, 32, 64, 32, 32, 3, 1, 1, 1};
  const auto image = randomFloats(3 * 32 * 32, 20);
  const auto filters = randomFloats(64 * 3 * 9, 21);
  checkSameOnAnyThreads([&] {
    std::vector<float> y(64 * 32 * 32);
    gradc::conv2d<float>(1, wide, image.data(), filters.data(), y.data());
    return y;
  });
  // A 3x3 window over 16 channels and 32 filters: the Winograd path,
  // forward and for both gradients, over enough samples for the weight
  // gradient's sum to take several chunks.
  const int64_t WB = 2 * gradc::kWinogradMaxChunk + 3;
  const gradc::WindowShape winograd{16, 13, 13, 32, 13, 13, 3, 1, 1, 1};
  const auto planes = randomFloats(WB * 16 * 13 * 13, 25);
  const auto kernels = randomFloats(32 * 16 * 9, 26);
  const auto planeDy = randomFloats(WB * 32 * 13 * 13, 27);
  checkSameOnAnyThreads([&] {
    std::vector<float> y(WB * 32 * 13 * 13), dx(planes.size());
    std::vector<float> dw(kernels.size());
    gradc::conv2d<float>(WB, winograd, planes.data(), kernels.data(), y.data());
    gradc::conv2dInputGrad<float>(WB, winograd, planeDy.data(), kernels.data(),
                                  dx.data());
    gradc::conv2dWeightGrad<float>(WB, winograd, planeDy.data(), planes.data(),
                                   dw.data());
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), dw.begin(), dw.end());
    return y;
  });
  // A first layer's few taps, which take their own loops.
  const gradc::WindowShape few{1, 28, 28, 18, 26, 26, 3, 1, 0, 0};
  const auto images = randomFloats(B * 28 * 28, 22);
  const auto fewFilters = randomFloats(18 * 9, 23);
  const auto fewDy = randomFloats(B * 18 * 26 * 26, 24);
  checkSameOnAnyThreads([&] {
    std::vector<float> y(B * 18 * 26 * 26), dw(18 * 9);
    gradc::conv2d<float>(B, few, images.data(), fewFilters.data(), y.data());
    gradc::conv2dWeightGrad<float>(B, few, fewDy.data(), images.data(),
                                   dw.data());
    y.insert(y.end(), dw.begin(), dw.end());
    return y;
  });

  const gradc::WindowShape pool{20, 17, 15, 20, 8, 7, 3, 2, 0, 0};
  const auto pooled = randomFloats(B * 20 * 8 * 7, 9);
  const auto feature = randomFloats(outSize, 10);
  // The 2x2 windows at stride 2 that tile the input have their own scans.
  const gradc::WindowShape tiles{20, 17, 15, 20, 8, 7, 2, 2, 0, 0};
  checkSameOnAnyThreads([&] {
    std::vector<float> y(B * 20 * 8 * 7), dx(outSize);
    gradc::maxPool2d<float>(B, tiles, feature.data(), y.data());
    gradc::maxPool2dGrad<float>(B, tiles, pooled.data(), feature.data(),
                                dx.data());
    y.insert(y.end(), dx.begin(), dx.end());
    return y;
  });
  checkSameOnAnyThreads([&] {
    std::vector<float> y(B * 20 * 8 * 7), dx(outSize), avg(B * 20 * 8 * 7),
        avgDx(outSize);
    gradc::maxPool2d<float>(B, pool, feature.data(), y.data());
    gradc::maxPool2dGrad<float>(B, pool, pooled.data(), feature.data(),
                                dx.data());
    gradc::avgPool2d<float>(B, pool, feature.data(), avg.data());
    gradc::avgPool2dGrad<float>(B, pool, pooled.data(), avgDx.data());
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), avg.begin(), avg.end());
    y.insert(y.end(), avgDx.begin(), avgDx.end());
    return y;
  });
}

TEST_CASE("batchnorm, norms and row kernels give the same bits on any "
          "number of threads",
          "[kernels][threads]") {
  const int64_t B = 9, C = 37, inner = 301;
  const int64_t n = B * C * inner;
  const auto x = randomFloats(n, 11), dy = randomFloats(n, 12);
  const auto weight = randomFloats(C, 13), bias = randomFloats(C, 14);
  checkSameOnAnyThreads([&] {
    std::vector<float> mean(C, 0.f), var(C, 1.f), stats(2 * C), y(n), dx(n),
        dstats(2 * C), dxStats(n), dw(C), db(C);
    gradc::batchNormStats<float>(B, C, inner, x.data(), mean.data(), var.data(),
                                 stats.data(), 1e-5, 0.1, true);
    gradc::batchNormApply<float>(B, C, inner, x.data(), stats.data(),
                                 weight.data(), bias.data(), y.data());
    gradc::batchNormInputGrad<float>(B, C, inner, dy.data(), stats.data(),
                                     weight.data(), dx.data());
    gradc::batchNormStatsGrad<float>(B, C, inner, dy.data(), x.data(),
                                     stats.data(), weight.data(),
                                     dstats.data());
    gradc::batchNormStatsInputGrad<float>(B, C, inner, dstats.data(), x.data(),
                                          stats.data(), dxStats.data());
    gradc::batchNormWeightGrad<float>(B, C, inner, dy.data(), x.data(),
                                      stats.data(), dw.data());
    gradc::channelSum<float>(B, C, inner, dy.data(), db.data());
    std::vector<float> all;
    for (const auto *part :
         {&mean, &var, &stats, &y, &dx, &dstats, &dxStats, &dw, &db})
      all.insert(all.end(), part->begin(), part->end());
    return all;
  });

  checkSameOnAnyThreads([&] {
    std::vector<float> norms = {gradc::squaredNorm<float>(n, x.data()),
                                gradc::squaredNorm<float>(8191, x.data()),
                                gradc::squaredNorm<float>(8193, x.data())};
    return norms;
  });

  const int64_t rows = B * C, width = inner;
  checkSameOnAnyThreads([&] {
    std::vector<float> soft(n), softDx(n), norm(n), normDx(n), drop(n);
    gradc::softmaxRows<float>(rows, width, x.data(), soft.data());
    gradc::softmaxRowsGrad<float>(rows, width, dy.data(), soft.data(),
                                  softDx.data());
    const auto gamma = randomFloats(width, 15), beta = randomFloats(width, 16);
    gradc::layerNorm<float>(rows, width, x.data(), gamma.data(), beta.data(),
                            1e-5, norm.data());
    gradc::layerNormGrad<float>(rows, width, dy.data(), x.data(), gamma.data(),
                                1e-5, normDx.data());
    gradc::dropout<float>(n, x.data(), drop.data(), 0.3, 42, 7, true);
    soft.insert(soft.end(), softDx.begin(), softDx.end());
    soft.insert(soft.end(), norm.begin(), norm.end());
    soft.insert(soft.end(), normDx.begin(), normDx.end());
    soft.insert(soft.end(), drop.begin(), drop.end());
    return soft;
  });
}

TEST_CASE("the recurrences give the same bits on any number of threads",
          "[kernels][threads]") {
  const int64_t B = 64, steps = 5, H = 161;
  const auto pre = randomFloats(B * steps * 4 * H, 17);
  const auto whh = randomFloats(4 * H * H, 18);
  const auto dstate = randomFloats(B * steps * gradc::LstmStateWidth * H, 19);
  checkSameOnAnyThreads([&] {
    std::vector<float> state(B * steps * gradc::LstmStateWidth * H),
        dpre(B * steps * 4 * H);
    gradc::lstmScan<float>(B, steps, H, pre.data(), whh.data(), state.data());
    gradc::lstmScanGrad<float>(B, steps, H, dstate.data(), state.data(),
                               whh.data(), dpre.data());
    state.insert(state.end(), dpre.begin(), dpre.end());
    return state;
  });
  checkSameOnAnyThreads([&] {
    std::vector<float> hs(B * steps * H), dpre(B * steps * H);
    gradc::rnnScan<float, false>(B, steps, H, pre.data(), whh.data(),
                                 hs.data());
    gradc::rnnScanGrad<float, false>(B, steps, H, pre.data(), hs.data(),
                                     whh.data(), dpre.data());
    hs.insert(hs.end(), dpre.begin(), dpre.end());
    return hs;
  });
}

#ifdef _OPENMP
TEST_CASE("flushing subnormals reaches every thread of the pool",
          "[kernels][threads]") {
  gradc::setThreads(2);
  gradc::flushSubnormals();

  // 2^-140 is subnormal in float: read as zero, and a product that
  // would be subnormal comes out zero.
  volatile float subnormal = std::ldexp(1.0f, -140);
  volatile float small = std::ldexp(1.0f, -100);
  int flushed[2] = {0, 0};
#pragma omp parallel num_threads(2)
  {
    const int thread = omp_get_thread_num();
    if (thread < 2)
      flushed[thread] = gradc::flushingSubnormals() &&
                        subnormal * 1.0f == 0.0f &&
                        small * small == 0.0f;
  }
  CHECK(flushed[0] == 1);
  CHECK(flushed[1] == 1);
}
#endif
