# simdcnn native build for node-gyp. The source list lives in native/sources.json (shared with
# CMakeLists.txt); only the per-ISA static libraries get ISA flags.
{
  "variables": {
    "simdcnn_common": ["<!@(node native/sources.js common)"],
    "simdcnn_binding": ["<!@(node native/sources.js binding)"],
    "simdcnn_avx2": ["<!@(node native/sources.js avx2)"],
    "simdcnn_avx512": ["<!@(node native/sources.js avx512)"],
    "simdcnn_neon": ["<!@(node native/sources.js neon)"],
    "simdcnn_cflags": ["-O3", "-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"]
  },
  "target_defaults": {
    "include_dirs": ["native"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["<@(simdcnn_cflags)"],
    "cflags!": ["-fno-exceptions"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
    }
  },
  "targets": [
    {
      "target_name": "simdcnn_isa",
      "type": "static_library",
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["simdcnn_avx2", "simdcnn_avx512"]
        }],
        ["target_arch=='arm64'", {
          "sources": ["<@(simdcnn_neon)"]
        }]
      ],
      "sources": ["<@(simdcnn_common)"]
    },
    {
      "target_name": "simdcnn",
      "sources": ["<@(simdcnn_binding)"],
      "dependencies": ["simdcnn_isa"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: an error thrown while the env is stopping (worker.terminate())
      # is dropped instead of rethrown into Node-API, which would abort the process (native/binding/defer.cc).
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
                  "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "libraries": ["-lpthread"]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "simdcnn_avx2",
          "type": "static_library",
          "sources": ["<@(simdcnn_avx2)"],
          "cflags_cc": ["-mavx2", "-mfma"]
        },
        {
          "target_name": "simdcnn_avx512",
          "type": "static_library",
          "sources": ["<@(simdcnn_avx512)"],
          "cflags_cc": ["-mavx512f", "-mavx2", "-mfma", "-Wno-maybe-uninitialized"]
        }
      ]
    }]
  ]
}
