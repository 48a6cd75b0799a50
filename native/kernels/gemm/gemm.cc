// GEMM driver: packing, cache blocking, tails, threading, per-ISA dispatch (see gemm.h).
#include "kernels/gemm/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "core/dispatch.h"
#include "core/thread_pool.h"
#include "kernels/act/unary.h"
#include "kernels/gemm/gemm_pack.h"
#include "kernels/gemm/gemm_ukernel.h"

namespace simdcnn {
namespace {

// Indexed by Isa. KC keeps one kc x NR B panel inside L1 (48 KiB on Zen 5) beside an A panel;
// MC x KC of packed A stays in L2 (1 MiB) while the B panels of a row of tiles stream past it.
constexpr GemmKernelConfig kConfigs[] = {
    {gemm_ukernel_4x8_scalar, 4, 8, 256, 256},
#if SIMDCNN_X86
    {gemm_ukernel_6x16_avx2, 6, 16, 256, 384},
    {gemm_ukernel_8x48_avx512, 8, 48, 192, 512, gemm_ukernel_8x48_avx512_narrow, 16,
     gemm_ukernel_8x48_avx512_direct, gemm_ukernel_8x48_avx512_unpacked},
#else
    {gemm_ukernel_4x8_scalar, 4, 8, 256, 256},
    {gemm_ukernel_4x8_scalar, 4, 8, 256, 256},
#endif
#if SIMDCNN_ARM64
    // KC 256: a 12 KiB B panel in L1 beside the A panel; MC 256 x KC of packed A (256 KiB) in L2.
    {gemm_ukernel_8x12_neon, 8, 12, 256, 256},
#else
    {gemm_ukernel_4x8_scalar, 4, 8, 256, 256},  // neon: not this target
#endif
};

constexpr bool kc_fits() {
  for (const GemmKernelConfig& c : kConfigs)
    if (c.kc > kGemmMaxKc || c.mr > kGemmMaxMr || c.nr > kGemmMaxNr || c.mc % c.mr != 0) return false;
  return true;
}
static_assert(kc_fits(), "a kernel config exceeds the packers' or run_tile's fixed-size buffers");

using CopyRowsFn = void (*)(size_t, const float*, const int64_t*, size_t, size_t, float*);
const CopyRowsFn kCopyRows[] = {
    gemm_copy_rows_scalar,
#if SIMDCNN_X86
    gemm_copy_rows_avx2,
    gemm_copy_rows_avx512,
#else
    gemm_copy_rows_scalar,
    gemm_copy_rows_scalar,
#endif
#if SIMDCNN_ARM64
    gemm_copy_rows_neon,
#else
    gemm_copy_rows_scalar,
#endif
};

using CopyColsFn = void (*)(size_t, const float*, size_t, size_t, size_t, float*);
const CopyColsFn kCopyCols[] = {
    gemm_copy_cols_scalar,
#if SIMDCNN_X86
    gemm_copy_cols_avx2,
    gemm_copy_cols_avx512,
#else
    gemm_copy_cols_scalar,
    gemm_copy_cols_scalar,
#endif
#if SIMDCNN_ARM64
    gemm_copy_cols_neon,
#else
    gemm_copy_cols_scalar,
#endif
};

const GemmKernelConfig& active_config() {
  const int i = static_cast<int>(active_isa());
  return kConfigs[(i >= 0 && i < 4) ? i : 0];
}

size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

struct MatrixB {
  const float* B;
  size_t ldb;
  bool trans;
  size_t n;  // columns of op(B)
};

// Panels of kc x nr from a strided matrix; columns past nc are zero.
void pack_b_matrix(const void* ctx, size_t k0, size_t kc, size_t n0, size_t nc, size_t nr,
                   float* dst) {
  const MatrixB& m = *static_cast<const MatrixB*>(ctx);
  for (size_t j0 = 0; j0 < nc; j0 += nr) {
    const size_t w = std::min(nr, nc - j0);
    if (!m.trans) {
      int64_t offs[kGemmMaxKc];
      for (size_t k = 0; k < kc; ++k) offs[k] = static_cast<int64_t>((k0 + k) * m.ldb);
      gemm_copy_rows(kc, m.B + n0 + j0, offs, w, nr, dst);
      // The next panel's rows are kc scattered lines far apart (too many streams for the hardware
      // prefetcher when B is large): request them now so they arrive while this panel is used.
      const size_t next = n0 + j0 + nr;
      if (next < m.n) {
        const size_t len = std::min(nr, m.n - next);
        for (size_t k = 0; k < kc; ++k)
          for (size_t j = 0; j < len; j += 16) __builtin_prefetch(m.B + offs[k] + next + j);
      }
    } else {
      gemm_copy_cols(kc, m.B + (n0 + j0) * m.ldb + k0, m.ldb, w, nr, dst);  // op(B)[k][n] = B[n*ldb + k]
    }
    dst += kc * nr;
  }
}

void pack_a_block(const float* A, size_t lda, bool trans, size_t M, size_t k0, size_t kc, size_t mr,
                  float* dst) {
  for (size_t i0 = 0; i0 < M; i0 += mr) {
    const size_t h = std::min(mr, M - i0);
    if (!trans) {
      gemm_copy_cols(kc, A + i0 * lda + k0, lda, h, mr, dst);
    } else {
      for (size_t k = 0; k < kc; ++k) {
        std::memcpy(dst + k * mr, A + (k0 + k) * lda + i0, h * sizeof(float));
        for (size_t i = h; i < mr; ++i) dst[k * mr + i] = 0.0f;
      }
    }
    dst += kc * mr;
  }
}

struct Job {
  const GemmKernelConfig* cfg;
  const PackedA* a;
  const GemmBPacker* b;
  float* C;
  size_t N, ldc;
  const GemmEpilogue* ep;
  const MatrixB* plain_b;  // B as a plain matrix, when it is one (gemm_packed_a), else null
};

// Largest K for which full tiles read B in place rather than from packed panels. With K this small
// a tile does only K x 24 FMAs per B panel, and packing the panel (K scattered row segments,
// prefetched) cost as much again: 1x1 convolutions over 16-32 channels on 112x112 maps ran at
// 70-80 GFLOP/s. Read in place, with the first row panel prefetching the next tiles' lines, the
// same layers run 1.5-2x faster (numbers in the closing note of that change); past K = 64 the
// packed path is as fast and keeps B's panel in L1 across the row panels.
constexpr size_t kUnpackedBMaxK = 64;

// B read in place is reused from L1 by every row panel of a column tile, while those panels' C
// rows are written. When B's and C's row stride is a multiple of 1 KiB (a 112x112 map: 49 KiB)
// all those lines fall into 12 of L1's 64 sets, and past 8 row panels the C lines evict B's:
// 16->96 @112 ran 0.95x the packed path, 16->64 @112 1.08x, 24->144 @56 (12.25 KiB rows) 1.04x.
bool unpacked_b_fits(size_t M, size_t ldb) { return M <= 64 || ldb % 256 != 0; }

// One output tile; partial tiles go through a full-size temporary so the ukernel never sees tails.
// a_lda != 0: ap points at row-major A (gemm_view_a; then h == mr always).
inline void run_tile(const GemmKernelConfig& cfg, size_t kc, const float* ap, size_t a_lda, const float* bp,
                     float* c, size_t ldc, size_t h, size_t w, const GemmTileParams& tp) {
  const size_t mr = cfg.mr, nr = cfg.nr;
  if (h == mr && w == nr) {
    if (a_lda)
      cfg.direct(nr, kc, ap, a_lda, bp, c, ldc, tp);
    else
      cfg.ukernel(kc, ap, bp, c, ldc, tp);
    return;
  }
  alignas(64) float tile[kGemmMaxMr * kGemmMaxNr];
  alignas(64) float rb[kGemmMaxMr];
  alignas(64) float cb[kGemmMaxNr];
  GemmTileParams t = tp;
  if (tp.load_c) {
    for (size_t i = 0; i < h; ++i) {
      std::memcpy(tile + i * nr, c + i * ldc, w * sizeof(float));
      for (size_t j = w; j < nr; ++j) tile[i * nr + j] = 0.0f;
    }
    for (size_t i = h; i < mr; ++i)
      for (size_t j = 0; j < nr; ++j) tile[i * nr + j] = 0.0f;
  }
  if (tp.last && tp.row_bias) {
    for (size_t i = 0; i < mr; ++i) rb[i] = i < h ? tp.row_bias[i] : 0.0f;
    t.row_bias = rb;
  }
  if (tp.last && tp.col_bias) {
    for (size_t j = 0; j < nr; ++j) cb[j] = j < w ? tp.col_bias[j] : 0.0f;
    t.col_bias = cb;
  }
  if (a_lda)
    cfg.direct(round_up(w, cfg.narrow_step), kc, ap, a_lda, bp, tile, nr, t);
  else if (cfg.narrow && w + cfg.narrow_step <= nr)
    cfg.narrow(round_up(w, cfg.narrow_step), kc, ap, bp, tile, nr, t);
  else
    cfg.ukernel(kc, ap, bp, tile, nr, t);
  for (size_t i = 0; i < h; ++i) std::memcpy(c + i * ldc, tile + i * nr, w * sizeof(float));
}

// Rows [m_begin, m_end) (multiples of mr except at M) x columns [n_begin, n_end). Each B panel is
// packed right before the MR panels of one MC block sweep over it, so it is still in L1 when read.
Status run_block(const Job& job, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  const GemmKernelConfig& cfg = *job.cfg;
  const PackedA& pa = *job.a;
  const size_t K = pa.k, mr = cfg.mr, nr = cfg.nr;
  const size_t kc_max = std::max<size_t>(1, std::min(pa.kc, K));
  ScratchBuffer bbuf;
  if (!bbuf.reserve(kc_max * nr)) return Status::kOutOfMemory;
  float* bp = bbuf.data();
  const GemmEpilogue& ep = *job.ep;
  const size_t kblocks = K == 0 ? 1 : (K + pa.kc - 1) / pa.kc;

  const auto tile_params = [&](size_t kb) {
    GemmTileParams tp;
    tp.load_c = kb > 0 || ep.accumulate;
    tp.last = kb + 1 == kblocks;
    tp.clamp = ep.act != GemmAct::kNone;
    tp.lo = ep.act == GemmAct::kClamp ? ep.clamp_lo : 0.0f;
    tp.hi = ep.act == GemmAct::kClamp ? ep.clamp_hi : __builtin_huge_valf();
    return tp;
  };
  const auto a_block = [&](size_t k0) { return pa.direct ? pa.direct + k0 : pa.buf.data() + k0 * pa.m_padded; };
  // The epilogue's tile activation over the h x w tile at (i0, j0), once its last K block is done.
  const auto tile_act = [&](size_t i0, size_t j0, size_t h, size_t w) {
    for (size_t i = 0; i < h; ++i) apply_act(ep.tile_act, ep.tile_act_alpha, ep.tile_act_beta, job.C + (i0 + i) * job.ldc + j0, w);
  };
  // K block kb of the tiles of rows [m0, m1) in column panel j0, over that block's packed B panel.
  const auto sweep = [&](size_t kb, size_t m0, size_t m1, size_t j0) {
    const size_t k0 = kb * pa.kc;
    const size_t kc = K == 0 ? 0 : std::min(pa.kc, K - k0);
    const size_t w = std::min(nr, n_end - j0);
    GemmTileParams tp = tile_params(kb);
    job.b->pack(job.b->ctx, k0, kc, j0, w, nr, bp);
    tp.col_bias = ep.col_bias ? ep.col_bias + j0 : nullptr;
    const float* ab = a_block(k0);
    for (size_t i0 = m0; i0 < m1; i0 += mr) {
      const size_t h = std::min(mr, m1 - i0);
      tp.row_bias = ep.row_bias ? ep.row_bias + i0 : nullptr;
      const float* ap = pa.direct ? ab + i0 * pa.lda : ab + (i0 / mr) * mr * kc;
      run_tile(cfg, kc, ap, pa.direct ? pa.lda : 0, bp, job.C + i0 * job.ldc + j0, job.ldc, h, w, tp);
      if (tp.last && ep.tile_act) tile_act(i0, j0, h, w);
    }
  };

  if (kblocks > 1 && m_end - m_begin <= cfg.mc) {
    // All rows in one MC block (few output channels, deep K: ResNet-50's 256 -> 64 and 512 -> 128
    // 1x1 layers): each column panel takes every K block in turn, so its C tiles stay in L1 between
    // K blocks instead of the whole C making a round trip through memory per K block. Every element
    // sees the same K blocks in the same order: the same bits as the loop below.
    for (size_t j0 = n_begin; j0 < n_end; j0 += nr)
      for (size_t kb = 0; kb < kblocks; ++kb) sweep(kb, m_begin, m_end, j0);
    return Status::kOk;
  }
  for (size_t kb = 0; kb < kblocks; ++kb) {
    size_t packed_from = n_begin;  // columns before this one were done with B in place
    if (job.plain_b && !job.plain_b->trans && pa.direct && cfg.unpacked && kblocks == 1 && K <= kUnpackedBMaxK &&
        unpacked_b_fits(pa.m, job.plain_b->ldb)) {
      // Full tiles only (A in place means M is a multiple of mr); the column tail is packed below.
      GemmTileParams tp = tile_params(kb);
      const float* ab = a_block(0);
      const size_t n_full = n_begin + (n_end - n_begin) / nr * nr;
      for (size_t j0 = n_begin; j0 < n_full; j0 += nr) {
        tp.col_bias = ep.col_bias ? ep.col_bias + j0 : nullptr;
        const float* bj = job.plain_b->B + j0;
        for (size_t i0 = m_begin; i0 < m_end; i0 += mr) {
          tp.row_bias = ep.row_bias ? ep.row_bias + i0 : nullptr;
          cfg.unpacked(K, ab + i0 * pa.lda, pa.lda, bj, job.plain_b->ldb, i0 == m_begin,
                       job.C + i0 * job.ldc + j0, job.ldc, tp);
          if (ep.tile_act) tile_act(i0, j0, mr, nr);
        }
      }
      packed_from = n_full;
    }
    for (size_t m0 = m_begin; m0 < m_end; m0 += cfg.mc) {
      const size_t m1 = std::min(m_end, m0 + cfg.mc);
      for (size_t j0 = packed_from; j0 < n_end; j0 += nr) sweep(kb, m0, m1, j0);
    }
  }
  return Status::kOk;
}

}  // namespace

size_t gemm_active_nr() { return active_config().nr; }

void gemm_copy_rows(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst) {
  const int i = static_cast<int>(active_isa());
  kCopyRows[(i >= 0 && i < 4) ? i : 0](kc, base, offs, w, nr, dst);
}

void gemm_copy_cols(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst) {
  const int i = static_cast<int>(active_isa());
  kCopyCols[(i >= 0 && i < 4) ? i : 0](kc, src, ld, w, nr, dst);
}

Status gemm_pack_a(size_t M, size_t K, const float* A, size_t lda, bool transA, PackedA* out) {
  if (!out || (M > 0 && K > 0 && !A)) return Status::kInvalidArgument;
  if (M > 0 && K > 0 && lda < (transA ? M : K)) return Status::kInvalidArgument;
  const GemmKernelConfig& cfg = active_config();
  out->m = M;
  out->k = K;
  out->mr = cfg.mr;
  out->kc = cfg.kc;
  out->isa = active_isa();
  out->m_padded = round_up(M, cfg.mr);
  out->direct = nullptr;
  out->lda = 0;
  const size_t total = out->m_padded * K;
  if (K != 0 && total / K != out->m_padded) return Status::kOutOfMemory;
  if (!out->buf.reserve(std::max<size_t>(total, 1))) return Status::kOutOfMemory;
  // Conv weights are repacked on every call; at batch 1 on late layers (512 x 4608) the copy costs
  // as much as a third of the multiply, so K blocks are packed in parallel (pure copies: exact).
  const size_t kblocks = (K + cfg.kc - 1) / cfg.kc;
  const size_t grain = std::max<size_t>(1, (size_t{1} << 18) / std::max<size_t>(1, out->m_padded * cfg.kc));
  parallel_for(kblocks, grain, [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; ++b) {
      const size_t k0 = b * cfg.kc, kc = std::min(cfg.kc, K - k0);
      pack_a_block(A, lda, transA, M, k0, kc, cfg.mr, out->buf.data() + k0 * out->m_padded);
    }
  });
  return Status::kOk;
}

Status gemm_view_a(size_t M, size_t K, const float* A, size_t lda, PackedA* out) {
  const GemmKernelConfig& cfg = active_config();
  if (!out || !cfg.direct || M == 0 || K == 0 || M % cfg.mr != 0) return gemm_pack_a(M, K, A, lda, false, out);
  if (!A || lda < K) return Status::kInvalidArgument;
  out->m = M;
  out->k = K;
  out->mr = cfg.mr;
  out->kc = cfg.kc;
  out->isa = active_isa();
  out->m_padded = M;
  out->buf.release();
  out->direct = A;
  out->lda = lda;
  return Status::kOk;
}

Status gemm_packed_a_custom_b(const PackedA& a, size_t N, const GemmBPacker& b, float* C, size_t ldc,
                              const GemmEpilogue& ep, bool allow_threads) {
  if (a.isa != active_isa() || !b.pack) return Status::kInvalidArgument;
  const size_t M = a.m, K = a.k;
  if (M == 0 || N == 0) return Status::kOk;
  if (!C || ldc < N || (!a.buf.data() && !a.direct)) return Status::kInvalidArgument;
  const GemmKernelConfig& cfg = active_config();
  if (cfg.mr != a.mr || cfg.kc != a.kc) return Status::kInvalidArgument;
  Job job{&cfg, &a, &b, C, N, ldc, &ep, b.pack == pack_b_matrix ? static_cast<const MatrixB*>(b.ctx) : nullptr};

  const size_t threads = allow_threads ? static_cast<size_t>(std::max(1, num_threads())) : 1;
  const double work = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  if (threads == 1 || work < static_cast<double>(kGemmThreadingThreshold))
    return run_block(job, 0, M, 0, N);

  // Tasks on a grid of row groups x column groups, tile-aligned so every thread count sees the same
  // tiles. Prefer splitting N (each task packs only its own B columns); split M as well when N has
  // fewer than two NR panels per thread (small late-layer maps: 7x7 gives one full panel and a
  // narrow tail, which alone would leave one thread idle most of the time; B packing is then
  // duplicated across row groups, which is cheap next to the weights those layers stream).
  const size_t n_panels = (N + cfg.nr - 1) / cfg.nr;
  const size_t m_panels = (M + cfg.mr - 1) / cfg.mr;
  size_t tn = std::min(n_panels, threads * 2);
  size_t tm = 1;
  if (tn < threads * 2) tm = std::min(m_panels, (threads * 2 + tn - 1) / tn);
  const size_t n_per = (n_panels + tn - 1) / tn;  // panels per column group
  const size_t m_per = (m_panels + tm - 1) / tm;
  tn = (n_panels + n_per - 1) / n_per;
  tm = (m_panels + m_per - 1) / m_per;
  std::atomic<bool> failed{false};
  parallel_for(tm * tn, 1, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) {
      const size_t ti = t / tn, tj = t % tn;
      const size_t m0 = ti * m_per * cfg.mr, m1 = std::min(M, m0 + m_per * cfg.mr);
      const size_t n0 = tj * n_per * cfg.nr, n1 = std::min(N, n0 + n_per * cfg.nr);
      if (m0 >= m1 || n0 >= n1) continue;
      const Status s = run_block(job, m0, m1, n0, n1);
      if (s != Status::kOk) failed.store(true, std::memory_order_relaxed);  // only OOM can fail
    }
  });
  return failed.load() ? Status::kOutOfMemory : Status::kOk;
}

Status gemm_packed_a(const PackedA& a, size_t N, const float* B, size_t ldb, bool transB, float* C,
                     size_t ldc, const GemmEpilogue& ep, bool allow_threads) {
  if (a.k > 0 && N > 0) {
    if (!B || ldb < (transB ? a.k : N)) return Status::kInvalidArgument;
  }
  MatrixB mb{B, ldb, transB, N};
  GemmBPacker bp{pack_b_matrix, &mb};
  return gemm_packed_a_custom_b(a, N, bp, C, ldc, ep, allow_threads);
}

Status gemm(size_t M, size_t N, size_t K, const float* A, size_t lda, bool transA, const float* B,
            size_t ldb, bool transB, float* C, size_t ldc, const GemmEpilogue& ep) {
  if (M == 0 || N == 0) return Status::kOk;
  PackedA pa;
  Status s = gemm_pack_a(M, K, A, lda, transA, &pa);
  if (s != Status::kOk) return s;
  return gemm_packed_a(pa, N, B, ldb, transB, C, ldc, ep);
}

}  // namespace simdcnn
