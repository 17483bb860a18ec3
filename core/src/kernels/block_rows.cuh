// Row movement for token elimination by kept-block lists, each row read and written once: the
// compact rows of kept blocks (gather), the residual stream plus the compact update scattered
// back (residual add), and the compact gradient expanded to every row with zeros elsewhere.
// Block j of a list `blocks` (ascending) is compact rows [j*block, j*block + block), clipped to
// the sequence; slot[b] is block b's position in the list or -1. Torch-free so nvcc compiles it alone.
#pragma once

#include "kernels/element_type.hpp"

#include <cuda_runtime.h>

#include <cstdint>

namespace jenga::core::kernels {

// out[r] = x[blocks[r / block] * block + r % block] for r < rows_out.
cudaError_t block_gather_rows(const void* x, const int64_t* blocks, ElementType type, int64_t rows_out, int64_t H, int64_t block,
                              void* out, cudaStream_t stream);
// h[r] = x[r] + upd[slot[r / block] * block + r % block], or x[r] where the slot is -1; r < S.
cudaError_t block_residual_add(const void* x, const void* upd, const int32_t* slot, ElementType type, int64_t S, int64_t H,
                               int64_t block, void* h, cudaStream_t stream);
// dx[r] = g[slot[r / block] * block + r % block], or 0 where the slot is -1; r < S.
cudaError_t block_expand_rows(const void* g, const int32_t* slot, ElementType type, int64_t S, int64_t H, int64_t block, void* dx,
                              cudaStream_t stream);

}  // namespace jenga::core::kernels
