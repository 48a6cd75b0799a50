// Placeholder: filled in by the conv2d_packed work.
#include <napi.h>

#include "binding/registry.h"

namespace simdcnn {
namespace binding {

void register_conv_packed(Napi::Env, Napi::Object) {}

}  // namespace binding
}  // namespace simdcnn
