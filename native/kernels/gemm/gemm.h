// Packed, cache-blocked single-precision GEMM: C[M,N] (+)= op(A)[M,K] * op(B)[K,N], row-major.
// op(A)[i][k] is A[i*lda + k], or A[k*lda + i] when transA; likewise B with transB.
// Blocking (Goto/BLIS): A is packed into MR-tall panels per KC block (all of A once per call, or
// once ever with gemm_pack_a); B one KC x NR panel at a time, right before the MR panels of an MC
// block sweep over it (so it is read from L1); a register-tiled MR x NR microkernel of the active
// ISA (4x8 scalar, 6x16 AVX2, 8x48 AVX-512, 8x12 NEON) does the FMAs; partial tiles go through a temporary. Threads split independent output tiles (over N, then M); the
// K reduction of every output element runs in one fixed order (KC blocks in increasing k, one FMA
// per k) whatever the thread count, so results do not depend on it.
#pragma once
#include <cstddef>

#include "core/cpu.h"
#include "core/scratch.h"
#include "core/status.h"

namespace simdcnn {

// kClamp: min(clamp_hi, max(clamp_lo, v)) (Clip, ReLU6), NaN kept like ReLU.
enum class GemmAct : int { kNone = 0, kRelu = 1, kClamp = 2 };

// Applied once per output element after the full K reduction:
//   C = act((accumulate ? C : 0) + A*B + row_bias[i] + col_bias[j])
struct GemmEpilogue {
  const float* row_bias = nullptr;  // [M] or null (conv: one bias per output channel)
  const float* col_bias = nullptr;  // [N] or null (linear: one bias per output feature)
  bool accumulate = false;          // beta = 1 (gradient accumulation)
  GemmAct act = GemmAct::kNone;
  float clamp_lo = 0.0f, clamp_hi = 0.0f;  // kClamp's bounds
  // Then, when nonzero, an activation code of act/unary.h (with its parameters) over each finished
  // tile while it is in L1 (SiLU, HardSwish, GELU ...: what the register clamp cannot do), instead
  // of a pass over the whole C afterwards. The result is the same per element either way.
  int tile_act = 0;
  float tile_act_alpha = 0.0f, tile_act_beta = 0.0f;
};

Status gemm(size_t M, size_t N, size_t K, const float* A, size_t lda, bool transA, const float* B,
            size_t ldb, bool transB, float* C, size_t ldc, const GemmEpilogue& ep);

// op(A) packed into the active ISA's MR panels, reusable across calls (weights). Layout: for the
// K block starting at k0 with length kc, panel p (rows p*MR .. p*MR+MR-1, zero-padded past M) is
// kc x MR floats at data + k0*m_padded + p*MR*kc. Only valid while active_isa() == isa.
struct PackedA {
  size_t m = 0, k = 0, m_padded = 0;
  size_t mr = 0, kc = 0;
  Isa isa = Isa::kScalar;
  ScratchBuffer buf;  // accounted in native_bytes()
  // Set by gemm_view_a instead of buf: row-major A read in place (row i, k at direct[i*lda + k]).
  const float* direct = nullptr;
  size_t lda = 0;
};

Status gemm_pack_a(size_t M, size_t K, const float* A, size_t lda, bool transA, PackedA* out);

// For A used once (conv weights, repacked on every call): when the active ISA has a kernel that
// reads A rows in place and M is a multiple of its MR, `out` just points at A (which must then
// outlive every use of `out`); otherwise it is gemm_pack_a. Results are bitwise the same either
// way; the view saves streaming the weights twice (late ResNet layers: a quarter of the time).
Status gemm_view_a(size_t M, size_t K, const float* A, size_t lda, PackedA* out);

// C[M,N] (+)= packed A * op(B). kInvalidArgument if `a` was packed for another ISA.
// allow_threads = false keeps the call on this thread (for callers already inside parallel_for).
Status gemm_packed_a(const PackedA& a, size_t N, const float* B, size_t ldb, bool transB, float* C,
                     size_t ldc, const GemmEpilogue& ep, bool allow_threads = true);

// Largest K block any ISA's kernel uses (packers may keep kc-sized arrays on the stack).
constexpr size_t kGemmMaxKc = 256;

// B supplied by a packing callback instead of a matrix (implicit im2col). pack() must write rows
// [k0, k0+kc) and columns [n0, n0+nc) of B as ceil(nc/nr) consecutive panels of kc x nr floats
// (panel-major, then k, then column), zero-filling columns past nc; kc <= kGemmMaxKc. It may be
// called concurrently from several threads with disjoint destinations.
struct GemmBPacker {
  void (*pack)(const void* ctx, size_t k0, size_t kc, size_t n0, size_t nc, size_t nr, float* dst);
  const void* ctx;
};

// As gemm_packed_a, with B from `b`.
Status gemm_packed_a_custom_b(const PackedA& a, size_t N, const GemmBPacker& b, float* C, size_t ldc,
                              const GemmEpilogue& ep, bool allow_threads);

// The active ISA's microkernel tile width (NR): B panels are kc x NR. Layouts prepacked once for
// gemm_packed_a_custom_b (linear_packed.h) use it.
size_t gemm_active_nr();

// Work (M*N*K multiply-adds) below which a GEMM stays on the calling thread.
constexpr size_t kGemmThreadingThreshold = size_t{1} << 21;

}  // namespace simdcnn
