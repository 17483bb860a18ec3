#include "run_setup.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/runtime/device.hpp"

#include <ATen/ATen.h>

namespace jenga::worker {

void extend_positions_for_random_init(ModelSource& src, int64_t S) {
  if (src.config.family == core::Family::Opt && src.checkpoint.empty() && S > src.config.max_position_embeddings)
    src.config.max_position_embeddings = S;
}

core::ModelOptions model_options(const TaskContext& ctx, const ModelSource& src, int64_t S) {
  const auto& p = ctx.params;
  core::ModelOptions mo;
  mo.device = core::select_device(ctx.device);
  core::apply_memory_cap_from_env(mo.device);
  const std::string dtype = p.value("dtype", std::string("bf16"));
  if (dtype != "bf16" && dtype != "fp32") throw core::Error(core::msg(ctx.task, ": dtype must be bf16 or fp32, got ", dtype));
  mo.dtype = dtype == "bf16" ? at::kBFloat16 : at::kFloat;
  const double auto_factor = S > src.config.max_position_embeddings && src.config.family == core::Family::Llama
                                 ? static_cast<double>(S) / static_cast<double>(src.config.max_position_embeddings) : 1.0;
  mo.rope_linear_factor = p.value("rope_linear_factor", auto_factor);
  if (src.config.family == core::Family::Opt && S > src.config.max_position_embeddings)
    throw core::Error(core::msg(ctx.task, ": OPT has learned positions up to ", src.config.max_position_embeddings, "; seq_len ", S,
                                " needs extended position embeddings"));
  return mo;
}

std::unique_ptr<core::TokenFile> open_token_data(const Json& p, int64_t vocab_size) {
  if (!p.contains("data")) return nullptr;
  const std::string fmt = p.value("data_format", std::string("auto"));
  if (fmt != "auto" && fmt != "uint16" && fmt != "uint32")
    throw core::Error(core::msg("data_format must be auto, uint16 or uint32, got ", fmt));
  const auto w = fmt == "uint16" ? core::TokenFile::Width::U16 : fmt == "uint32" ? core::TokenFile::Width::U32 : core::TokenFile::Width::Auto;
  return std::make_unique<core::TokenFile>(p["data"].get<std::string>(), w, vocab_size);
}

torch::Tensor training_sequence(core::TokenFile* data, int64_t i, int64_t S, uint64_t seed, int64_t vocab_size, at::Generator& gen) {
  return data ? data->sequence(i, S, seed) : at::randint(vocab_size, {S}, gen, at::TensorOptions().dtype(at::kLong));
}

core::EliminationConfig elimination_config(const Json& p) {
  core::EliminationConfig ec;
  ec.kept_fraction = p.value("kept_fraction", ec.kept_fraction);
  ec.first_sparse_layer = p.value("first_sparse_layer", ec.first_sparse_layer);
  ec.last_layer_dense = p.value("last_layer_dense", ec.last_layer_dense);
  ec.mlp_prune_ratio = p.value("mlp_prune_ratio", ec.mlp_prune_ratio);
  ec.mlp_prune_layers = p.value("mlp_prune_layers", ec.mlp_prune_layers);
  core::validate(ec);
  return ec;
}

std::unique_ptr<core::Tokenizer> open_tokenizer(const std::string& spec, int64_t vocab_size) {
  if (spec == "bytes") return core::make_byte_tokenizer();
  if (spec.size() > 6 && spec.compare(spec.size() - 6, 6, ".model") == 0) return core::load_sentencepiece(spec);
  return core::load_tokenizer(spec, vocab_size);
}

std::unique_ptr<core::Tokenizer> pick_tokenizer(const ModelSource& src, const Json& p) {
  const std::string tk = p.value("tokenizer", std::string());
  std::unique_ptr<core::Tokenizer> tok;
  if (!tk.empty())
    tok = open_tokenizer(tk, src.config.vocab_size);
  else if (!src.checkpoint.empty())
    tok = core::load_tokenizer(src.checkpoint, src.config.vocab_size);
  else if (src.config.vocab_size == 256)
    tok = core::make_byte_tokenizer();
  else
    throw core::Error("no tokenizer: pass params.tokenizer (a directory with tokenizer.model, or \"bytes\")");
  if (tok->vocab_size() > src.config.vocab_size)
    throw core::Error(core::msg("the tokenizer has ", tok->vocab_size(), " tokens, the model ", src.config.vocab_size));
  return tok;
}

std::unique_ptr<core::CausalLM> make_eval_model(const TaskContext& ctx, const ModelSource& src, int64_t longest) {
  const auto& p = ctx.params;
  auto model = core::make_causal_lm(src.config, model_options(ctx, src, longest), src.checkpoint, p.value("seed", 0));
  if (p.contains("adapter")) model->load_adapter(p["adapter"].get<std::string>());
  return model;
}

}  // namespace jenga::worker
