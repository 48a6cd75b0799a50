// linear, matmul and linearBackward exports; registered by register_conv (conv2d.cc) beside conv2d.
#pragma once
#include <napi.h>

namespace simdcnn {
namespace binding {

void register_linear(Napi::Env env, Napi::Object exports);  // linear, matmul, linearBackward

}  // namespace binding
}  // namespace simdcnn
