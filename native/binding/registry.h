// Each binding file registers its functions on the addon's exports.
#pragma once
#include <napi.h>

namespace simdcnn {
namespace binding {

void register_core(Napi::Env env, Napi::Object exports);    // cpuInfo, threads, memory  (addon.cc)
void register_conv(Napi::Env env, Napi::Object exports);    // conv2d (+ backward); calls register_linear (linear.h)
void register_conv_winograd(Napi::Env env, Napi::Object exports);  // winogradPreferred, winogradWeights, conv2dWinograd (conv2d_winograd.cc)
void register_conv_packed(Napi::Env env, Napi::Object exports);    // conv2dPackedSize, conv2dPackWeights, conv2dPacked (conv2d_packed.cc)
void register_pool(Napi::Env env, Napi::Object exports);    // pool2d, globalPool2d       (pool2d.cc)
void register_norm(Napi::Env env, Napi::Object exports);    // batchNorm2d, layerNorm, instanceNorm2d, stats
void register_act(Napi::Env env, Napi::Object exports);     // unary activations, softmax
void register_elementwise(Napi::Env env, Napi::Object exports);  // binary ops, scale/mask
void register_loss(Napi::Env env, Napi::Object exports);    // crossEntropy, mseLoss (+ Into, backward)
void register_optim(Napi::Env env, Napi::Object exports);   // sgdStep, adamStep                (optim.cc)

}  // namespace binding
}  // namespace simdcnn
