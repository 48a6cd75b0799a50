// Measures this core's FP32 FMA peak: independent FMA chains (enough accumulators to cover the
// FMA latency x throughput product, all held in registers) on 512-bit and 256-bit vectors, one thread.
// Built by bench/peak.ts with g++ -O2 -mavx512f -mfma (x86-64 only). Prints JSON.
#include <immintrin.h>

#include <chrono>
#include <cstdio>

template <typename V, int kAcc, typename Fma, typename Set>
static double run(Fma fma, Set set, int lanes, long iters) {
  V acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = set(1.0f + i * 1e-3f);
  const V a = set(0.999999f), b = set(1e-7f);
  auto t0 = std::chrono::steady_clock::now();
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAcc; ++i) acc[i] = fma(acc[i], a, b);
  }
  auto t1 = std::chrono::steady_clock::now();
  float sink = 0;
  alignas(64) float tmp[16];
  for (int i = 0; i < kAcc; ++i) {
    _mm_storeu_ps(tmp, _mm_set1_ps(0));
    if constexpr (sizeof(V) == 64) _mm512_storeu_ps(tmp, (__m512)acc[i]);
    else _mm256_storeu_ps(tmp, (__m256)acc[i]);
    sink += tmp[0];
  }
  if (sink == 12345.0f) std::printf("#");
  const double s = std::chrono::duration<double>(t1 - t0).count();
  return 2.0 * lanes * kAcc * iters / s / 1e9;
}

int main() {
  const long iters = 50'000'000;
  double best512 = 0, best256 = 0;
  for (int rep = 0; rep < 5; ++rep) {
    double g512 = run<__m512, 16>([](__m512 x, __m512 a, __m512 b) { return _mm512_fmadd_ps(x, a, b); },
                                  [](float v) { return _mm512_set1_ps(v); }, 16, iters);
    // 12, not 16, accumulators: without AVX512VL only ymm0-15 exist, and 16 accumulators plus the
    // two operands spilled three chains to the stack, which measured the store-forwarding latency.
    double g256 = run<__m256, 12>([](__m256 x, __m256 a, __m256 b) { return _mm256_fmadd_ps(x, a, b); },
                                  [](float v) { return _mm256_set1_ps(v); }, 8, iters);
    if (g512 > best512) best512 = g512;
    if (g256 > best256) best256 = g256;
  }
  std::printf("{\"avx512\": %.1f, \"avx2\": %.1f}\n", best512, best256);
  return 0;
}
