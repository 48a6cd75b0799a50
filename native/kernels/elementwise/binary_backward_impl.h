// The binary gradients and the blocked sums written once over a Vec; instantiated by
// binary_backward_<isa>.cc.
#pragma once
#include "kernels/elementwise/no_contract.h"
#include "kernels/elementwise/binary_backward.h"
#include "kernels/elementwise/vec.h"

namespace simdcnn {
namespace binary_backward_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

// The gradients of one vector of elements (rem lanes; rem == W for a full vector). All loads
// precede the stores, so an output may be one of the inputs itself.
template <class Vec>
inline void step(const float* a, const float* b, const float* dy, float* da, float* db, BinaryKind kind,
                 bool b_scalar, typename Vec::V b0, int rem) {
  using V = typename Vec::V;
  const bool full = rem == Vec::W;
  const V g = full ? Vec::load(dy) : Vec::load_n(dy, rem);
  V ga = g, gb = g;
  switch (kind) {
    case BinaryKind::kAdd:
      break;
    case BinaryKind::kSub:
      gb = Vec::neg(g);
      break;
    case BinaryKind::kMul: {
      const V bv = b_scalar ? b0 : full ? Vec::load(b) : Vec::load_n(b, rem);
      ga = Vec::mul(g, bv);
      if (db) gb = Vec::mul(g, full ? Vec::load(a) : Vec::load_n(a, rem));
      break;
    }
    case BinaryKind::kDiv: {
      // Masked-off lanes divide by 0: never stored, and vector float exceptions are masked.
      const V bv = b_scalar ? b0 : full ? Vec::load(b) : Vec::load_n(b, rem);
      ga = Vec::div(g, bv);
      if (db) {
        const V av = full ? Vec::load(a) : Vec::load_n(a, rem);
        gb = Vec::div(Vec::mul(Vec::neg(g), av), Vec::mul(bv, bv));
      }
      break;
    }
  }
  if (full) {
    if (da) Vec::store(da, ga);
    if (db) Vec::store(db, gb);
  } else {
    if (da) Vec::store_n(da, ga, rem);
    if (db) Vec::store_n(db, gb, rem);
  }
}

template <class Vec>
void binary_backward_range(const float* a, const float* b, const float* dy, float* da, float* db, size_t n,
                           BinaryKind kind, bool b_scalar) {
  constexpr size_t W = Vec::W;
  const typename Vec::V b0 = b_scalar ? Vec::set1(b[0]) : Vec::zero();
  const size_t bs = b_scalar ? 0 : 1;  // b's step per element
  size_t i = 0;
  for (; i + W <= n; i += W)
    step<Vec>(a + i, b + i * bs, dy + i, da ? da + i : nullptr, db ? db + i : nullptr, kind, b_scalar, b0,
              static_cast<int>(W));
  if (i < n)
    step<Vec>(a + i, b + i * bs, dy + i, da ? da + i : nullptr, db ? db + i : nullptr, kind, b_scalar, b0,
              static_cast<int>(n - i));
}

template <class Vec>
double sum_range(const float* x, const float* y, size_t n) {
  using V = typename Vec::V;
  constexpr size_t W = Vec::W;
  constexpr size_t kBlock = 16 * W;  // 16 float additions per lane before the lanes go to double
  double total = 0;
  size_t i = 0;
  while (i < n) {
    const size_t end = n - i < kBlock ? n : i + kBlock;
    V acc = Vec::zero();
    for (; i + W <= end; i += W)
      acc = Vec::add(acc, y ? Vec::mul(Vec::load(x + i), Vec::load(y + i)) : Vec::load(x + i));
    if (i < end) {
      const int rem = static_cast<int>(end - i);
      acc = Vec::add(acc, y ? Vec::mul(Vec::load_n(x + i, rem), Vec::load_n(y + i, rem)) : Vec::load_n(x + i, rem));
      i = end;
    }
    float lanes[W];
    Vec::store(lanes, acc);
    for (size_t l = 0; l < W; ++l) total += lanes[l];
  }
  return total;
}

}  // namespace
}  // namespace binary_backward_impl
}  // namespace simdcnn
