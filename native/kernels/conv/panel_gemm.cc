#include "kernels/conv/panel_gemm.h"

#include <algorithm>

#include "core/shape.h"

namespace simdcnn {
namespace {

// Indexed by Isa. Tuned on Zen 5 (L1 48 KiB, L2 1 MiB). AVX-512 KC 192: a tile reads up to one
// input line per tap, so with KC 256 a 1x1 stride-2 layer over 256 channels keeps 32 KiB of
// weights + 16 KiB of input lines per tile, the whole L1 (171 vs 194 GFLOP/s at KC 128..192);
// 192 also keeps the 7x7 stem's K = 147 in one block (KC 128: 164 vs 175). Pixel blocks of 16..32
// tiles, channel blocks of 1..16 panels and panel- vs K-block-outer loops measured within noise.
constexpr PanelTileConfig kConfigs[] = {
    {conv_packed_tile_4x8_scalar, 4, 8, 8, 256, 32, 4},
#if SIMDCNN_X86
    {conv_packed_tile_6x16_avx2, 6, 16, 8, 256, 32, 4},
    {conv_packed_tile_7x32_avx512, 7, 32, 16, 192, 32, 4},
#else
    {conv_packed_tile_4x8_scalar, 4, 8, 8, 256, 32, 4},
    {conv_packed_tile_4x8_scalar, 4, 8, 8, 256, 32, 4},
#endif
#if SIMDCNN_ARM64
    // Not tuned on hardware yet (built and tested under qemu): the GEMM's KC.
    {conv_packed_tile_8x12_neon, 8, 12, 4, 256, 32, 4},
#else
    {conv_packed_tile_4x8_scalar, 4, 8, 8, 256, 32, 4},  // neon: not this target
#endif
};

constexpr bool configs_fit() {
  for (const PanelTileConfig& c : kConfigs)
    if (c.mr > kConvPackedMaxMr || c.nr > kConvPackedMaxNr || c.nr % c.vs != 0 ||
        c.mp_block == 0)
      return false;
  return true;
}
static_assert(configs_fit(), "a tile config exceeds kConvPackedMaxMr/Nr");

size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

}  // namespace

const PanelTileConfig& panel_tile_config(Isa* isa_out) {
  const Isa isa = active_isa();
  const int i = static_cast<int>(isa);
  if (isa_out) *isa_out = isa;
  return kConfigs[(i >= 0 && i < 4) ? i : 0];
}

size_t panel_floats(size_t K, size_t n) {
  int64_t total = 0;
  if (!checked_mul(static_cast<int64_t>(K), static_cast<int64_t>(round_up(n, panel_tile_config().vs)), &total) ||
      total > kMaxElements)
    return 0;
  return static_cast<size_t>(total);
}

void pack_panels(const float* w, size_t ldw, size_t K, size_t n, float* dst) {
  const PanelTileConfig& cfg = panel_tile_config();
  for (size_t c0 = 0; c0 < n; c0 += cfg.nr) {
    const size_t valid = std::min(cfg.nr, n - c0);
    const size_t nr = std::min(cfg.nr, round_up(valid, cfg.vs));
    float* d = dst + c0 * K;
    for (size_t k = 0; k < K; ++k)
      for (size_t j = 0; j < nr; ++j) d[k * nr + j] = j < valid ? w[(c0 + j) * ldw + k] : 0.0f;
  }
}

float panel_element(const float* panels, size_t K, size_t n, size_t j, size_t k) {
  const PanelTileConfig& cfg = panel_tile_config();
  const size_t c0 = j / cfg.nr * cfg.nr;
  const size_t nr = std::min(cfg.nr, round_up(n - c0, cfg.vs));
  return panels[c0 * K + k * nr + (j - c0)];
}

// Layout of the work space: K tap offsets (int64, two floats each), then the partial sums of every
// tile of the pixel range (when K has several blocks).
size_t panel_gemm_work_floats(size_t m, size_t K) {
  const PanelTileConfig& cfg = panel_tile_config();
  const size_t tiles = (m + cfg.mr - 1) / cfg.mr;
  return 2 * K + (K > cfg.kc ? tiles * cfg.mr * cfg.nr : 0);
}

void panel_gemm(const float* x, size_t ldx, size_t m, size_t K, const float* panels, size_t n, float* out,
                size_t ldo, float* work) {
  const PanelTileConfig& cfg = panel_tile_config();
  const size_t mr = cfg.mr;
  const size_t n_tiles = (m + mr - 1) / mr;
  int64_t* offs = reinterpret_cast<int64_t*>(work);
  float* partial = work + 2 * K;
  for (size_t k = 0; k < K; ++k) offs[k] = static_cast<int64_t>(k * ldx);
  const size_t n_kb = (K + cfg.kc - 1) / cfg.kc;
  const size_t kc = (K + n_kb - 1) / n_kb;  // even K blocks (the same split as conv2d_packed)
  // Pixel origins, pixels past m repeating the last one (the tile stores only h of them).
  const float* rows[kConvPackedMaxMr];
  ConvTileArgs t{};
  t.ohw = ldo;
  t.clamp = false;
  t.bias = nullptr;
  t.residual = nullptr;
  for (size_t c0 = 0; c0 < n; c0 += cfg.nr) {
    t.w = std::min(cfg.nr, n - c0);
    t.nr = std::min(cfg.nr, round_up(t.w, cfg.vs));
    const float* panel = panels + c0 * K;
    for (size_t kb = 0; kb < n_kb; ++kb) {
      const size_t k0 = kb * kc;
      t.kc = std::min(kc, K - k0);
      t.offs = offs + k0;
      t.b = panel + k0 * t.nr;
      t.first = kb == 0;
      t.last = kb + 1 == n_kb;
      const float* next = t.b + t.kc * t.nr;  // the next K block (or panel): to L2 meanwhile
      const size_t next_floats = t.kc * t.nr;
      for (size_t tile = 0; tile < n_tiles; ++tile) {
        const size_t p0 = tile * mr;
        t.h = std::min(mr, m - p0);
        for (size_t i = 0; i < mr; ++i) rows[i] = x + p0 + std::min(i, t.h - 1);
        t.rows = rows;
        t.acc = partial + tile * mr * t.nr;
        t.out = out + c0 * ldo + p0;
        const size_t pf_at = tile * t.kc * 16;
        t.pf = pf_at < next_floats ? next + pf_at : nullptr;
        cfg.fn(t);
      }
    }
  }
}

}  // namespace simdcnn
