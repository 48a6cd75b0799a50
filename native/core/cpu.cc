#include "core/cpu.h"

#include <cstring>

#include "core/arch.h"

#if SIMDCNN_X86
#include <cpuid.h>
#endif
#if SIMDCNN_ARM64 && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace simdcnn {
namespace {

#if SIMDCNN_X86
uint64_t read_xcr0() {
  uint32_t eax, edx;
  // xgetbv with ecx = 0; only valid when CPUID reports OSXSAVE.
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if SIMDCNN_X86
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = (ecx >> 27) & 1;
  const bool avx = (ecx >> 28) & 1;
  f.fma = (ecx >> 12) & 1;
  if (osxsave) {
    const uint64_t xcr0 = read_xcr0();
    // XMM (bit 1) and YMM (bit 2) state; opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7) for AVX-512.
    f.os_ymm = avx && (xcr0 & 0x6) == 0x6;
    f.os_zmm = f.os_ymm && (xcr0 & 0xE0) == 0xE0;
  }
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = (ebx >> 5) & 1;
    f.avx512f = (ebx >> 16) & 1;
    f.avx512dq = (ebx >> 17) & 1;
    f.avx512bw = (ebx >> 30) & 1;
    f.avx512vl = (ebx >> 31) & 1;
  }
#elif SIMDCNN_ARM64
  f.neon = true;  // Advanced SIMD is mandatory on AArch64.
#if defined(__linux__)
  // Bit numbers of the kernel's uapi asm/hwcap.h (stable ABI), spelled out so older headers build.
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  f.fp16 = (hw >> 9 & 1) && (hw >> 10 & 1);  // HWCAP_FPHP, HWCAP_ASIMDHP
  f.dotprod = hw >> 20 & 1;                  // HWCAP_ASIMDDP
  f.i8mm = hw2 >> 13 & 1;                    // HWCAP2_I8MM
  f.bf16 = hw2 >> 14 & 1;                    // HWCAP2_BF16
#endif
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
  }
  return "scalar";
}

bool isa_supported(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::kScalar: return true;
#if SIMDCNN_X86
    case Isa::kAvx2: return f.avx2 && f.fma && f.os_ymm;
    case Isa::kAvx512: return f.avx512f && f.avx2 && f.fma && f.os_zmm;
#else
    case Isa::kAvx2: return false;
    case Isa::kAvx512: return false;
#endif
#if SIMDCNN_ARM64
    case Isa::kNeon: return f.neon;
#else
    case Isa::kNeon: return false;
#endif
  }
  return false;
}

Isa best_isa() {
  if (isa_supported(Isa::kAvx512)) return Isa::kAvx512;
  if (isa_supported(Isa::kAvx2)) return Isa::kAvx2;
  if (isa_supported(Isa::kNeon)) return Isa::kNeon;
  return Isa::kScalar;
}

bool parse_isa(const char* name, Isa* out, std::string* error) {
  static const Isa all[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon};
  for (Isa isa : all) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      if (!isa_supported(isa)) {
        *error = std::string("SIMDCNN_ISA=") + name + " but this CPU (or OS) does not support " + name +
                 "; supported here: ";
        bool first = true;
        for (Isa s : all)
          if (isa_supported(s)) {
            *error += (first ? "" : ", ");
            *error += isa_name(s);
            first = false;
          }
        return false;
      }
      *out = isa;
      return true;
    }
  }
  *error = std::string("SIMDCNN_ISA='") + name + "' is not one of scalar, avx2, avx512, neon";
  return false;
}

}  // namespace simdcnn
