// What the training-like tasks (train-bench, predictor-train) set up the same way from params:
// model options, the token source, and the elimination policy.
#pragma once

#include "model_source.hpp"
#include "task.hpp"

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/sparsity/elimination.hpp"
#include "jenga/core/text/tokenizer.hpp"
#include "jenga/core/train/token_file.hpp"

#include <memory>

namespace jenga::worker {

// OPT learns one position embedding per position, up to max_position_embeddings. A random-init
// model (systems runs) longer than that gets a table of S positions, as a position-extended
// checkpoint would have; a real checkpoint is never silently extended (model_options refuses it).
void extend_positions_for_random_init(ModelSource& src, int64_t S);

// Device (ctx.device, memory cap from the environment), dtype (params.dtype bf16|fp32), and RoPE
// scaling (params.rope_linear_factor, default seq_len / max positions when longer) for S tokens.
core::ModelOptions model_options(const TaskContext& ctx, const ModelSource& src, int64_t S);

// The model an evaluation task scores (ppl, longbench, niah): built for `longest` tokens (RoPE
// scaling as model_options), seeded by params.seed, with params.adapter (a PEFT directory) loaded.
std::unique_ptr<core::CausalLM> make_eval_model(const TaskContext& ctx, const ModelSource& src, int64_t longest);

// params.data (+ data_format auto|uint16|uint32) as a token file, or null for random tokens.
std::unique_ptr<core::TokenFile> open_token_data(const Json& params, int64_t vocab_size);

// One training sequence: from the file (sequence i) or seeded random tokens.
torch::Tensor training_sequence(core::TokenFile* data, int64_t i, int64_t S, uint64_t seed, int64_t vocab_size, at::Generator& gen);

// A tokenizer named by `spec`: "bytes", a SentencePiece .model file, or a directory holding
// tokenizer.model (or, for a 256-token vocabulary, none: bytes).
std::unique_ptr<core::Tokenizer> open_tokenizer(const std::string& spec, int64_t vocab_size);

// params.tokenizer (as open_tokenizer); else the checkpoint's
// directory; else bytes for a 256-token vocabulary. Error when none fits the model.
std::unique_ptr<core::Tokenizer> pick_tokenizer(const ModelSource& src, const Json& params);

// params kept_fraction, first_sparse_layer, last_layer_dense, mlp_prune_ratio, mlp_prune_layers.
core::EliminationConfig elimination_config(const Json& params);

}  // namespace jenga::worker
