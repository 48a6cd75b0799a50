// The active ISA's tables hold that ISA's kernels: a slot falling back to another ISA's kernel would
// still pass every numeric test, so the tile geometries (which differ per ISA) are checked here.
#include <cstdio>

#include "core/arch.h"
#include "core/dispatch.h"
#include "kernels/conv/panel_gemm.h"
#include "kernels/gemm/gemm.h"
#include "test/harness.h"

namespace simdcnn {
namespace {

TEST_CASE("dispatch: the active ISA's GEMM and conv tiles") {
  Isa isa = Isa::kScalar;
  const PanelTileConfig& tile = panel_tile_config(&isa);
  CHECK(isa == active_isa());
  // GEMM MR x NR, conv tile MR x NR, conv panel width step VS.
  size_t gemm_mr = 0, gemm_nr = 0, tile_mr = 0, tile_nr = 0, vs = 0;
  switch (isa) {
    case Isa::kScalar: gemm_mr = 4, gemm_nr = 8, tile_mr = 4, tile_nr = 8, vs = 8; break;
    case Isa::kAvx2: gemm_mr = 6, gemm_nr = 16, tile_mr = 6, tile_nr = 16, vs = 8; break;
    case Isa::kAvx512: gemm_mr = 8, gemm_nr = 48, tile_mr = 7, tile_nr = 32, vs = 16; break;
    case Isa::kNeon: gemm_mr = 8, gemm_nr = 12, tile_mr = 8, tile_nr = 12, vs = 4; break;
  }
  CHECK(gemm_active_nr() == gemm_nr);
  PackedA pa;
  const float a[4] = {};
  CHECK(gemm_pack_a(2, 2, a, 2, false, &pa) == Status::kOk);
  CHECK(pa.mr == gemm_mr);
  CHECK(tile.mr == tile_mr);
  CHECK(tile.nr == tile_nr);
  CHECK(tile.vs == vs);
}

// AArch64 always has NEON, and NEON is then the default ISA (x86: the widest of AVX-512, AVX2).
TEST_CASE("dispatch: best_isa and the CPU features") {
  const CpuFeatures& f = cpu_features();
#if SIMDCNN_ARM64
  CHECK(f.neon);
  CHECK(best_isa() == Isa::kNeon);
  static bool printed = false;
  if (!printed)
    std::printf("  arm64 features: neon%s%s%s%s\n", f.dotprod ? " dotprod" : "", f.fp16 ? " fp16" : "",
                f.bf16 ? " bf16" : "", f.i8mm ? " i8mm" : "");
  printed = true;
#else
  CHECK(!f.neon && !f.dotprod && !f.fp16 && !f.bf16 && !f.i8mm);
  CHECK(best_isa() != Isa::kNeon);
#endif
}

}  // namespace
}  // namespace simdcnn
