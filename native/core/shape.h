// Overflow-checked size arithmetic for the binding layer and kernels.
#pragma once
#include <cstddef>
#include <cstdint>

namespace simdcnn {

// Largest element count we accept for one buffer (2^31 - 1 floats: Float32Array's practical limit
// and safe for int index math in kernels that use 64-bit sizes anyway).
constexpr int64_t kMaxElements = (int64_t{1} << 31) - 1;

// a * b into *out; false on overflow or when the result exceeds kMaxElements.
inline bool checked_mul(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return false;
  if (a != 0 && b > kMaxElements / a) return false;
  *out = a * b;
  return *out <= kMaxElements;
}

inline bool checked_product(const int64_t* dims, int n, int64_t* out) {
  int64_t p = 1;
  for (int i = 0; i < n; ++i)
    if (!checked_mul(p, dims[i], &p)) return false;
  *out = p;
  return true;
}

// PyTorch's output size for one spatial axis. Returns -1 when the window does not fit
// (effective kernel larger than the padded input) so callers can report an empty output.
inline int64_t pooled_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad_begin,
                                  int64_t pad_end, int64_t dilation, bool ceil_mode) {
  const int64_t eff = dilation * (k - 1) + 1;
  const int64_t span = in + pad_begin + pad_end - eff;
  if (span < 0) return -1;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // With ceil_mode the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

}  // namespace simdcnn
