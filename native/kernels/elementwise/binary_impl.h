// The binary ops written once over a Vec; instantiated by binary_<isa>.cc.
#pragma once
#include "kernels/elementwise/binary.h"
#include "kernels/elementwise/vec.h"

namespace simdcnn {
namespace binary_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

template <class Vec, class Op>
inline void run(const float* a, const float* b, float* y, size_t n, bool b_scalar, Op op) {
  constexpr size_t W = Vec::W;
  size_t i = 0;
  if (b_scalar) {
    const auto vb = Vec::set1(b[0]);
    for (; i + W <= n; i += W) Vec::store(y + i, op(Vec::load(a + i), vb));
    if (i < n) {
      const int rem = static_cast<int>(n - i);
      Vec::store_n(y + i, op(Vec::load_n(a + i, rem), vb), rem);
    }
  } else {
    for (; i + W <= n; i += W) Vec::store(y + i, op(Vec::load(a + i), Vec::load(b + i)));
    if (i < n) {
      const int rem = static_cast<int>(n - i);
      // The masked-off lanes compute 0/0 = NaN, which is harmless: they are never stored and
      // vector float exceptions are masked.
      Vec::store_n(y + i, op(Vec::load_n(a + i, rem), Vec::load_n(b + i, rem)), rem);
    }
  }
}

template <class Vec>
void binary_range(const float* a, const float* b, float* y, size_t n, BinaryKind kind, bool b_scalar) {
  using V = typename Vec::V;
  switch (kind) {
    case BinaryKind::kAdd: run<Vec>(a, b, y, n, b_scalar, [](V p, V q) { return Vec::add(p, q); }); break;
    case BinaryKind::kSub: run<Vec>(a, b, y, n, b_scalar, [](V p, V q) { return Vec::sub(p, q); }); break;
    case BinaryKind::kMul: run<Vec>(a, b, y, n, b_scalar, [](V p, V q) { return Vec::mul(p, q); }); break;
    case BinaryKind::kDiv: run<Vec>(a, b, y, n, b_scalar, [](V p, V q) { return Vec::div(p, q); }); break;
  }
}

}  // namespace
}  // namespace binary_impl
}  // namespace simdcnn
