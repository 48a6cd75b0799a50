// SGD and Adam written once over a Vec; instantiated by optim_<isa>.cc.
#pragma once
#include "kernels/elementwise/no_contract.h"
#include "kernels/elementwise/vec.h"
#include "kernels/optim/optim.h"

namespace simdcnn {
namespace optim_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

// f(i, rem) over [0, n) in vectors of W lanes, the last one rem < W lanes.
template <class Vec, class F>
inline void lanes(size_t n, F f) {
  constexpr size_t W = Vec::W;
  size_t i = 0;
  for (; i + W <= n; i += W) f(i, static_cast<int>(W));
  if (i < n) f(i, static_cast<int>(n - i));
}

template <class Vec>
inline typename Vec::V ld(const float* p, int rem) {
  return rem == Vec::W ? Vec::load(p) : Vec::load_n(p, rem);
}
template <class Vec>
inline void st(float* p, typename Vec::V v, int rem) {
  if (rem == Vec::W) Vec::store(p, v);
  else Vec::store_n(p, v, rem);
}

template <class Vec>
void sgd_range(float* w, const float* g, float* buf, size_t n, const SgdHyper& h) {
  using V = typename Vec::V;
  const V lr = Vec::set1(h.lr), mu = Vec::set1(h.momentum), keep = Vec::set1(h.keep_d), wd = Vec::set1(h.wd);
  lanes<Vec>(n, [&](size_t i, int rem) {
    const V wv = ld<Vec>(w + i, rem);
    V d = Vec::add(ld<Vec>(g + i, rem), Vec::mul(wd, wv));
    if (buf) {
      const V b = h.first ? d : Vec::add(Vec::mul(mu, ld<Vec>(buf + i, rem)), Vec::mul(keep, d));
      st<Vec>(buf + i, b, rem);
      d = h.nesterov ? Vec::add(d, Vec::mul(mu, b)) : b;
    }
    st<Vec>(w + i, Vec::sub(wv, Vec::mul(lr, d)), rem);
  });
}

template <class Vec>
void adam_range(float* w, const float* g, float* m, float* v, size_t n, const AdamHyper& h) {
  using V = typename Vec::V;
  const V lr = Vec::set1(h.lr), b1 = Vec::set1(h.b1), ob1 = Vec::set1(h.one_minus_b1), b2 = Vec::set1(h.b2),
          ob2 = Vec::set1(h.one_minus_b2), eps = Vec::set1(h.eps), wd = Vec::set1(h.wd), c1 = Vec::set1(h.c1),
          c2 = Vec::set1(h.c2);
  lanes<Vec>(n, [&](size_t i, int rem) {
    const V wv = ld<Vec>(w + i, rem);
    const V d = Vec::add(ld<Vec>(g + i, rem), Vec::mul(wd, wv));
    const V mv = Vec::add(Vec::mul(b1, ld<Vec>(m + i, rem)), Vec::mul(ob1, d));
    const V vv = Vec::add(Vec::mul(b2, ld<Vec>(v + i, rem)), Vec::mul(Vec::mul(ob2, d), d));
    st<Vec>(m + i, mv, rem);
    st<Vec>(v + i, vv, rem);
    // Masked-off lanes of a tail may divide 0 by 0: never stored, vector float exceptions are masked.
    const V step = Vec::div(Vec::mul(lr, Vec::div(mv, c1)), Vec::add(Vec::sqrt(Vec::div(vv, c2)), eps));
    st<Vec>(w + i, Vec::sub(wv, step), rem);
  });
}

}  // namespace
}  // namespace optim_impl
}  // namespace simdcnn
