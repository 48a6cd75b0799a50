// Placeholder: filled in by the conv2d_winograd work.
#include <napi.h>

#include "binding/registry.h"

namespace simdcnn {
namespace binding {

void register_conv_winograd(Napi::Env, Napi::Object) {}

}  // namespace binding
}  // namespace simdcnn
