// CPU feature detection and ISA selection. Detection runs once at addon load; the chosen ISA fills
// the dispatch table (dispatch.h). We never compile with -march=native: only the per-ISA files get
// ISA flags, and they are only called when the CPU (and the OS, for YMM/ZMM state) supports them.
#pragma once
#include <string>

namespace simdcnn {

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512dq = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool os_ymm = false;  // XCR0 says the OS saves YMM state
  bool os_zmm = false;  // XCR0 says the OS saves ZMM and opmask state
  bool neon = false;
  // AArch64 extensions, detected for later kernels (none uses them yet): SDOT/UDOT, half-precision
  // vector arithmetic, BF16 dot products, int8 matrix multiply. Linux only (getauxval); false elsewhere.
  bool dotprod = false;
  bool fp16 = false;
  bool bf16 = false;
  bool i8mm = false;
};

const CpuFeatures& cpu_features();
const char* isa_name(Isa isa);
bool isa_supported(Isa isa);
Isa best_isa();

// Parses a SIMDCNN_ISA value ("scalar", "avx2", "avx512", "neon"). Returns false and sets *error
// when the name is unknown or the CPU/OS cannot run that ISA.
bool parse_isa(const char* name, Isa* out, std::string* error);

}  // namespace simdcnn
