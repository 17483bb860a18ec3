// Moving the kept tokens' rows out of the residual stream [S, H] and their attention update back
// in. `kept` lists whole blocks of `block` tokens in ascending order (only the sequence's last
// block may be short). On CUDA with block > 0 the block_rows kernels do it from the block list,
// each row read and written once, backward included; elsewhere index_select / index_add.
#pragma once

#include <torch/types.h>

namespace jenga::core {

struct KeptRows {
  torch::Tensor kept;    // int64 token indices
  torch::Tensor blocks;  // int64 kept block ids (CUDA path only)
  torch::Tensor slot;    // int32 [num_blocks]: position in `blocks` or -1 (CUDA path only)
  int64_t block = 0, S = 0;
};

// block 0: the lists are not block-structured (index ops only).
KeptRows kept_rows(const torch::Tensor& kept, int64_t block, int64_t S);
// x.index_select(0, kept), differentiable in x.
torch::Tensor gather_kept_rows(const torch::Tensor& x, const KeptRows& k);
// x.index_add(0, kept, upd), differentiable in x and upd.
torch::Tensor add_at_kept_rows(const torch::Tensor& x, const KeptRows& k, const torch::Tensor& upd);

}  // namespace jenga::core
