// The activation gradients written once over a Vec; instantiated by unary_backward_<isa>.cc.
#pragma once
#include "kernels/elementwise/no_contract.h"
#include "kernels/act/unary_backward.h"
#include "kernels/elementwise/vec.h"

namespace simdcnn {
namespace unary_backward_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

// dx = f(src, dy) over n elements; every load of an element precedes its store, so dx may be
// src or dy.
template <class Vec, class F>
inline void map2(const float* src, const float* dy, float* dx, size_t n, F f) {
  constexpr size_t W = Vec::W;
  size_t i = 0;
  for (; i + W <= n; i += W) Vec::store(dx + i, f(Vec::load(src + i), Vec::load(dy + i)));
  if (i < n) {
    const int rem = static_cast<int>(n - i);
    Vec::store_n(dx + i, f(Vec::load_n(src + i, rem), Vec::load_n(dy + i, rem)), rem);
  }
}

template <class Vec>
void unary_backward_range(const float* x, const float* y, const float* dy, float* dx, size_t n,
                          UnaryBackwardKind kind, float alpha) {
  using V = typename Vec::V;
  const V zero = Vec::zero(), one = Vec::set1(1.0f), va = Vec::set1(alpha);
  switch (kind) {
    case UnaryBackwardKind::kRelu:
      map2<Vec>(x, dy, dx, n, [&](V s, V g) { return Vec::select_gt0(s, g, zero); });
      break;
    case UnaryBackwardKind::kReluOut:
      map2<Vec>(y, dy, dx, n, [&](V s, V g) { return Vec::select_gt0(s, g, zero); });
      break;
    case UnaryBackwardKind::kLeakyRelu:
      map2<Vec>(x, dy, dx, n, [&](V s, V g) { return Vec::select_gt0(s, g, Vec::mul(g, va)); });
      break;
    case UnaryBackwardKind::kSigmoid:
      map2<Vec>(y, dy, dx, n, [&](V s, V g) { return Vec::mul(Vec::mul(g, s), Vec::sub(one, s)); });
      break;
    case UnaryBackwardKind::kTanh:
      // (1 - y)(1 + y), not 1 - y^2: near |y| = 1 the subtraction of a rounded y^2 would cancel to
      // a few correct bits, while 1 - y (or 1 + y) is then exact.
      map2<Vec>(y, dy, dx, n, [&](V s, V g) { return Vec::mul(Vec::mul(g, Vec::sub(one, s)), Vec::add(one, s)); });
      break;
  }
}

}  // namespace
}  // namespace unary_backward_impl
}  // namespace simdcnn
