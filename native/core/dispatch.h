// The active ISA, chosen once at addon load (best supported, or SIMDCNN_ISA). Kernel families keep
// static per-ISA tables of function pointers and index them with active_isa(); the native test
// binary calls set_active_isa() to run every kernel on every ISA the machine has.
#pragma once
#include "core/cpu.h"

namespace simdcnn {

Isa active_isa();
// Only call with an ISA for which isa_supported() is true.
void set_active_isa(Isa isa);

}  // namespace simdcnn
