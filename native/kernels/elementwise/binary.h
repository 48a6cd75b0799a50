// Elementwise binary arithmetic with PyTorch's per-channel broadcast.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// Codes match the addon's `binary` kind and bMode arguments.
enum class BinaryKind : int { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };
enum class BroadcastMode : int { kSame = 0, kChannel = 1 };

// a viewed as [N, C, inner]. kSame: b has a's N*C*inner elements; kChannel: b has C elements,
// b[c] applies to every a[n, c, :]. y may alias a (or b in kSame mode). Division is IEEE (x/0 = inf).
Status binary(const float* a, const float* b, float* y, int64_t N, int64_t C, int64_t inner,
              BinaryKind kind, BroadcastMode mode);

// Per-ISA range kernels: y[i] = a[i] op (b_scalar ? b[0] : b[i]) for i < n.
using BinaryRangeFn = void (*)(const float* a, const float* b, float* y, size_t n, BinaryKind kind,
                               bool b_scalar);
void binary_range_scalar(const float* a, const float* b, float* y, size_t n, BinaryKind kind, bool b_scalar);
void binary_range_avx2(const float* a, const float* b, float* y, size_t n, BinaryKind kind, bool b_scalar);
void binary_range_avx512(const float* a, const float* b, float* y, size_t n, BinaryKind kind, bool b_scalar);
void binary_range_neon(const float* a, const float* b, float* y, size_t n, BinaryKind kind, bool b_scalar);

}  // namespace simdcnn
