// Status codes returned by kernels. Kernels never throw, abort or exit: the host process must
// live on, so every failure is a value the binding layer maps to a JS error.
#pragma once

namespace simdcnn {

enum class Status : int {
  kOk = 0,
  kInvalidArgument = 1,  // a shape or parameter the binding should have rejected
  kOutOfMemory = 2,      // scratch or cache allocation failed
  kUnsupported = 3,      // e.g. an ISA the CPU lacks
};

inline const char* status_message(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kInvalidArgument: return "invalid argument";
    case Status::kOutOfMemory: return "out of memory";
    case Status::kUnsupported: return "unsupported";
  }
  return "unknown status";
}

}  // namespace simdcnn
