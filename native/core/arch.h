// Which architecture this translation unit is compiled for. Per-ISA files exist for both x86-64
// (avx2, avx512) and arm64 (neon); only the ones matching the target are compiled.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)
#define SIMDCNN_X86 1
#else
#define SIMDCNN_X86 0
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
#define SIMDCNN_ARM64 1
#else
#define SIMDCNN_ARM64 0
#endif
