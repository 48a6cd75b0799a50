// The norm apply loops written once over a Vec; instantiated by affine_<isa>.cc.
#pragma once
#include "kernels/elementwise/vec.h"
#include "kernels/norm/affine.h"

namespace simdcnn {
namespace affine_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

// (x - mean) first: x * scale + (shift - mean * scale) would lose the low bits of x - mean when
// |mean| is large compared with the spread.
template <class Vec>
void plane(const float* x, float* y, size_t n, float mean, float scale, float shift) {
  constexpr size_t W = Vec::W;
  const auto m = Vec::set1(mean), s = Vec::set1(scale), t = Vec::set1(shift);
  size_t i = 0;
  for (; i + W <= n; i += W) Vec::store(y + i, Vec::fmadd(Vec::sub(Vec::load(x + i), m), s, t));
  if (i < n) {
    const int rem = static_cast<int>(n - i);
    Vec::store_n(y + i, Vec::fmadd(Vec::sub(Vec::load_n(x + i, rem), m), s, t), rem);
  }
}

template <class Vec>
void row(const float* x, float* y, size_t n, float mean, float rstd, const float* w, const float* b) {
  constexpr size_t W = Vec::W;
  const auto m = Vec::set1(mean), r = Vec::set1(rstd);
  auto one = [&](typename Vec::V xv, const float* wp, const float* bp, int rem) {
    auto v = Vec::mul(Vec::sub(xv, m), r);
    if (w) v = Vec::mul(v, rem < 0 ? Vec::load(wp) : Vec::load_n(wp, rem));
    if (b) v = Vec::add(v, rem < 0 ? Vec::load(bp) : Vec::load_n(bp, rem));
    return v;
  };
  size_t i = 0;
  for (; i + W <= n; i += W)
    Vec::store(y + i, one(Vec::load(x + i), w ? w + i : nullptr, b ? b + i : nullptr, -1));
  if (i < n) {
    const int rem = static_cast<int>(n - i);
    Vec::store_n(y + i, one(Vec::load_n(x + i, rem), w ? w + i : nullptr, b ? b + i : nullptr, rem), rem);
  }
}

// (x - mean) first, for the same reason as plane().
template <class Vec>
void grad(const float* x, const float* dy, float* dx, size_t n, float mean, float a, float b, float c) {
  constexpr size_t W = Vec::W;
  const auto m = Vec::set1(mean), va = Vec::set1(a), vb = Vec::set1(b), vc = Vec::set1(c);
  size_t i = 0;
  for (; i + W <= n; i += W)
    Vec::store(dx + i, Vec::fmadd(va, Vec::load(dy + i), Vec::fmadd(Vec::sub(Vec::load(x + i), m), vb, vc)));
  if (i < n) {
    const int rem = static_cast<int>(n - i);
    Vec::store_n(dx + i,
                 Vec::fmadd(va, Vec::load_n(dy + i, rem), Vec::fmadd(Vec::sub(Vec::load_n(x + i, rem), m), vb, vc)),
                 rem);
  }
}

}  // namespace
}  // namespace affine_impl
}  // namespace simdcnn
