// A minimal test harness for the standalone native test binary (run by ctest, also under
// AddressSanitizer/UndefinedBehaviorSanitizer). Tests register themselves; CHECKs record failures
// and keep going so one run reports everything.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace simdcnn {
namespace test {

struct TestCase {
  const char* name;
  std::function<void()> fn;
};

// The same floats bit for bit, where two NaNs count as the same: which NaN (sign, payload) an
// operation on NaNs returns depends on its operand order, which compilers choose (Zig's clang
// commutes a * b where GCC does not), and IEEE 754 leaves it open; JS cannot tell NaNs apart.
inline bool same_floats(const float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::memcmp(a + i, b + i, sizeof(float)) != 0) return false;
  }
  return true;
}

std::vector<TestCase>& registry();
int& failures();

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

// |a - b| <= atol + rtol * |b|
inline bool near(double a, double b, double atol, double rtol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

}  // namespace test
}  // namespace simdcnn

#define SIMDCNN_CAT2(a, b) a##b
#define SIMDCNN_CAT(a, b) SIMDCNN_CAT2(a, b)
#define TEST_CASE(name)                                                              \
  static void SIMDCNN_CAT(test_fn_, __LINE__)();                                     \
  static ::simdcnn::test::Registrar SIMDCNN_CAT(test_reg_, __LINE__)(name,           \
                                                SIMDCNN_CAT(test_fn_, __LINE__));    \
  static void SIMDCNN_CAT(test_fn_, __LINE__)()

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      ++::simdcnn::test::failures();                                                 \
      std::fprintf(stderr, "  CHECK failed %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                                \
  } while (0)

#define CHECK_NEAR(a, b, atol, rtol)                                                       \
  do {                                                                                     \
    double va_ = (a), vb_ = (b);                                                           \
    if (!::simdcnn::test::near(va_, vb_, (atol), (rtol))) {                                \
      ++::simdcnn::test::failures();                                                       \
      std::fprintf(stderr, "  CHECK_NEAR failed %s:%d: %s = %.9g vs %s = %.9g\n", __FILE__, \
                   __LINE__, #a, va_, #b, vb_);                                            \
    }                                                                                      \
  } while (0)
