// Included first by the kernels whose results are defined operation by operation in float32 (the
// training-step kernels: activation and elementwise backward, SGD, Adam): every multiply and add
// rounds on its own, so each ISA gives the scalar kernel's bits and the JS float32 reference's.
// GCC contracts a * b + c into an FMA by default in C++ wherever the target has one (-mfma, and
// AArch64 always), intrinsics included; the pragma turns that off for the rest of the translation
// unit. Explicit fmadd calls are unaffected.
#pragma once

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
