#include "kernels/elementwise/copy.h"

#include <algorithm>
#include <cstring>

#include "core/thread_pool.h"

namespace simdcnn {

namespace {

void copy_run(const float* x, float* y, int64_t len) {
  // Short runs (a transpose that moves the innermost axis) are cheaper as a loop than as memcpy calls.
  if (len <= 4) {
    for (int64_t j = 0; j < len; ++j) y[j] = x[j];
  } else {
    std::memcpy(y, x, static_cast<size_t>(len) * sizeof(float));
  }
}

// y[i*ys + j] = x[i + j*xs] for i < A, j < B: a matrix transpose (NCHW <-> NHWC: A, B = HW, C or
// C, HW). The element-by-element walk of copy_strided's runs of one float took 0.8-1.1 ns per
// float (ConvNeXt's 36 transposes: 6 ms of 69); 16 x 16 tiles keep a tile's 16 source and 16
// destination lines in L1 and took 0.4, and threads take bands of rows of y.
void transpose2d(const float* x, float* y, int64_t A, int64_t B, int64_t xs, int64_t ys) {
  constexpr int64_t T = 16;
  const size_t bands = static_cast<size_t>((A + T - 1) / T);
  const size_t grain = std::max<size_t>(1, static_cast<size_t>((int64_t{1} << 15) / std::max<int64_t>(1, T * B)));
  parallel_for(bands, grain, [&](size_t b0, size_t b1) {
    for (int64_t i0 = static_cast<int64_t>(b0) * T; i0 < std::min<int64_t>(A, static_cast<int64_t>(b1) * T); i0 += T) {
      const int64_t i1 = std::min(A, i0 + T);
      for (int64_t j0 = 0; j0 < B; j0 += T) {
        const int64_t j1 = std::min(B, j0 + T);
        for (int64_t i = i0; i < i1; ++i) {
          float* yr = y + i * ys;
          const float* xc = x + i;
          for (int64_t j = j0; j < j1; ++j) yr[j] = xc[j * xs];
        }
      }
    }
  });
}

// f(x offset, y offset) for every index of axes [0, outer) (none: once, at 0), axis 0 outermost:
// an odometer over the grid.
template <class F>
void for_each_offset(const CopyAxis* axes, int outer, F&& f) {
  int64_t idx[kCopyMaxRank] = {0};
  int64_t xo = 0, yo = 0;
  for (;;) {
    f(xo, yo);
    int k = outer - 1;
    for (; k >= 0; --k) {
      ++idx[k];
      xo += axes[k].x_stride;
      yo += axes[k].y_stride;
      if (idx[k] < axes[k].count) break;
      xo -= axes[k].x_stride * axes[k].count;
      yo -= axes[k].y_stride * axes[k].count;
      idx[k] = 0;
    }
    if (k < 0) break;
  }
}

}  // namespace

Status copy_strided(const float* x, float* y, int64_t len, const CopyAxis* axes, int rank) {
  if (rank < 0 || rank > kCopyMaxRank || len < 0 || (rank > 0 && axes == nullptr)) return Status::kInvalidArgument;
  int64_t runs = 1;
  for (int k = 0; k < rank; ++k) {
    if (axes[k].count < 0 || axes[k].x_stride < 0 || axes[k].y_stride < 0) return Status::kInvalidArgument;
    runs *= axes[k].count;
    if (runs == 0) break;
  }
  if (runs == 0 || len == 0) return Status::kOk;
  if (x == nullptr || y == nullptr) return Status::kInvalidArgument;
  if (rank == 0) {
    copy_run(x, y, len);
    return Status::kOk;
  }
  // Single floats whose last two axes swap contiguity (x contiguous along the outer one, y along
  // the inner one): a transpose per index of the axes before them.
  if (len == 1 && rank >= 2 && axes[rank - 2].x_stride == 1 && axes[rank - 1].y_stride == 1) {
    const CopyAxis& a = axes[rank - 2];
    const CopyAxis& b = axes[rank - 1];
    for_each_offset(axes, rank - 2, [&](int64_t xo, int64_t yo) {
      transpose2d(x + xo, y + yo, a.count, b.count, b.x_stride, a.y_stride);
    });
    return Status::kOk;
  }
  // Every index of axes 0 .. rank-2; the innermost axis is the loop here.
  const CopyAxis& in = axes[rank - 1];
  for_each_offset(axes, rank - 1, [&](int64_t xo, int64_t yo) {
    for (int64_t i = 0; i < in.count; ++i) copy_run(x + xo + i * in.x_stride, y + yo + i * in.y_stride, len);
  });
  return Status::kOk;
}

// Past this many floats a second thread pays for its hand-off (memory bound either way).
constexpr size_t kFillCopyGrain = 1 << 16;

Status fill_floats(float* y, int64_t n, float value) {
  if (n < 0 || (n > 0 && !y)) return Status::kInvalidArgument;
  parallel_for(static_cast<size_t>(n), kFillCopyGrain, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) y[i] = value;
  });
  return Status::kOk;
}

Status copy_floats(const float* x, float* y, int64_t n) {
  if (n < 0 || (n > 0 && (!x || !y))) return Status::kInvalidArgument;
  if (n == 0 || x == y) return Status::kOk;
  parallel_for(static_cast<size_t>(n), kFillCopyGrain,
               [&](size_t b, size_t e) { std::memcpy(y + b, x + b, (e - b) * sizeof(float)); });
  return Status::kOk;
}

}  // namespace simdcnn
