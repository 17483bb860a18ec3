// Spotlight's decode-time key selection on packed hash codes: for each query head, the `keep`
// keys whose codes share the most bits with the query's (ties go to later keys), as ascending
// positions. Codes are packed 32 bits to a word (bit j of word w = code bit 32 w + j). Keys of one
// key/value head are `key_stride` words apart, heads `head_stride` apart; query heads are grouped
// over key heads as in GQA. Shared-bit counts are integers 0..bits, so one histogram finds the
// threshold count and one ordered pass writes the keys: no sort. Torch-free so nvcc compiles it alone.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace jenga::core::kernels {

struct HammingSelect {
  const uint32_t* q = nullptr;  // [q_heads][words]
  const uint32_t* k = nullptr;  // key i of key head hk: k + hk * head_stride + i * key_stride
  int64_t head_stride = 0, key_stride = 0;
  int q_heads = 0, kv_heads = 0, words = 0, bits = 0, seq_k = 0, keep = 0;
};

// out: int64 [q_heads][keep]. cudaErrorInvalidValue for sizes outside 1 <= keep <= seq_k,
// 1 <= bits <= 32 * words <= 64, kv_heads dividing q_heads.
cudaError_t hamming_select(const HammingSelect& p, int64_t* out, cudaStream_t stream);

// Codes from projections: x fp32 [rows][bits] contiguous -> out [rows][ceil(bits / 32)], bit set
// where x >= 0 (padding bits 0). One launch where the ±1 tensor and its packing take a dozen.
cudaError_t pack_signs(const float* x, int64_t rows, int bits, uint32_t* out, cudaStream_t stream);

}  // namespace jenga::core::kernels
