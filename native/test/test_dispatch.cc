// The active ISA's tables hold that ISA's kernels: a slot falling back to another ISA's kernel would
// still pass every numeric test, so the tile geometries (which differ per ISA) are checked here.
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

}  // namespace
}  // namespace simdcnn
