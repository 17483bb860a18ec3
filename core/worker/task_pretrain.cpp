// `pretrain`: full-parameter training of a model from random init (or from a checkpoint) on a
// token file, in our own trainer, then the checkpoint in HF layout. This is how the reference
// model of the accuracy experiments is made. Params:
//   data (required; a token file, or a list mixed by size), data_format (auto|uint16|uint32), out (required; directory for
//   model.safetensors + config.json (+ tokenizer.model when tokenizer is given) + pretrain.json),
//   seq_len (required), batch (8: sequences per step, packed into one forward), steps (required;
//   0: as many as fit in max_seconds, the cosine schedule timed to end there), max_seconds (0: no
//   limit; stops early, keeping what was learnt), lr (1e-3), warmup (steps/20),
//   min_lr_ratio (0.1: cosine floor), weight_decay (0.1; matrices only), grad_clip (1.0),
//   beta2 (0.95), loss_chunk (2048), seed (0), log_every (10: step records), eval_data (a held-out
//   token file) with eval_every (0: only at the end) and eval_sequences (16), save_dtype
//   (bf16|fp32, default bf16), tokenizer (a SentencePiece .model or a tokenizer.json, copied next
//   to the weights so the checkpoint directory names its own tokenizer; bytes (default): none).
// Weights train in fp32 (they are AdamW's masters); on CUDA matmuls use TF32.
#include "model_source.hpp"
#include "run_setup.hpp"
#include "task.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/train/loss.hpp"
#include "jenga/core/train/token_file.hpp"
#include "jenga/core/train/trainer.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>

namespace jenga::worker {
namespace {

using Clock = std::chrono::steady_clock;

// Mean loss of `n` held-out sequences of S tokens (every token scored, as in training).
double held_out_loss(core::CausalLM& model, const core::TokenFile& eval, int64_t n, int64_t S, uint64_t seed, int64_t chunk) {
  at::NoGradGuard ng;
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    const auto ids = eval.sequence(j, S, seed).to(model.lm_head_weight().device());
    sum += core::segmented_lm_loss(model.forward_hidden(ids), model.lm_head_weight(), core::next_token_labels(ids), chunk)
               .item<double>();
  }
  return sum / static_cast<double>(n);
}

// params.data: one token file, or a list of them (corpora mixed in proportion to their sizes:
// each row picks its file at random by token count, then takes that file's next sequence).
class TokenMixture {
 public:
  TokenMixture(const Json& p, int64_t vocab_size, uint64_t seed) : gen_(at::detail::createCPUGenerator(seed + 7)), seed_(seed) {
    const auto paths = p["data"].is_array() ? p["data"].get<std::vector<std::string>>() : std::vector<std::string>{p["data"].get<std::string>()};
    if (paths.empty()) throw core::Error("pretrain: params.data is an empty list");
    std::vector<double> sizes;
    for (const auto& path : paths) {
      Json one{{"data", path}};
      if (p.contains("data_format")) one["data_format"] = p["data_format"];
      files_.push_back(open_token_data(one, vocab_size));
      sizes.push_back(static_cast<double>(files_.back()->num_tokens()));
    }
    weights_ = at::tensor(sizes, at::kDouble);
    next_.assign(files_.size(), 0);
  }
  torch::Tensor next(int64_t S) {
    const auto k = files_.size() == 1 ? 0 : at::multinomial(weights_, 1, /*replacement=*/true, gen_).item<int64_t>();
    return files_[static_cast<size_t>(k)]->sequence(next_[static_cast<size_t>(k)]++, S, seed_);
  }

 private:
  std::vector<std::unique_ptr<core::TokenFile>> files_;
  std::vector<int64_t> next_;
  at::Tensor weights_;
  at::Generator gen_;
  uint64_t seed_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::Error(core::msg("pretrain: cannot read tokenizer ", path));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

Json task_pretrain(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"data", "data_format", "out", "seq_len", "batch", "steps", "max_seconds", "lr", "warmup",
                           "min_lr_ratio", "weight_decay", "grad_clip", "beta2", "loss_chunk", "seed", "log_every",
                           "eval_data", "eval_every", "eval_sequences", "save_dtype", "tokenizer", "dtype"},
                       "pretrain");
  for (const char* k : {"data", "out", "seq_len", "steps"})
    if (!p.contains(k)) throw core::Error(core::msg("pretrain: params.", k, " is required"));
  if (p.value("dtype", std::string("fp32")) != "fp32")
    throw core::Error("pretrain: weights train in fp32 (they are the optimizer's masters); drop params.dtype");
  const int64_t S = p["seq_len"].get<int64_t>(), B = p.value("batch", int64_t{8});
  int64_t steps = p["steps"].get<int64_t>();
  const double max_seconds = p.value("max_seconds", 0.0);
  // steps 0: as many as fit in max_seconds, estimated from the step time once the warm-up is
  // over, so that the cosine schedule still ends where the run does.
  const bool fit_to_time = steps == 0;
  if (fit_to_time && !(max_seconds > 0)) throw core::Error("pretrain: steps 0 (fit to the time budget) needs max_seconds > 0");
  if (fit_to_time && !p.contains("warmup")) throw core::Error("pretrain: steps 0 (fit to the time budget) needs an explicit warmup");
  if (S < 2 || B < 1 || steps < 0) throw core::Error(core::msg("pretrain: need seq_len >= 2, batch >= 1, steps >= 0"));
  const std::string out = p["out"].get<std::string>();
  const std::string save_dtype = p.value("save_dtype", std::string("bf16"));
  if (save_dtype != "bf16" && save_dtype != "fp32") throw core::Error(core::msg("pretrain: save_dtype must be bf16 or fp32, got ", save_dtype));
  const int64_t log_every = std::max<int64_t>(1, p.value("log_every", int64_t{10}));
  const uint64_t seed = p.value("seed", 0);

  // Read now, so a wrong path fails before the training rather than after it.
  const std::string tokenizer = p.value("tokenizer", std::string("bytes"));
  const bool json_tokenizer = tokenizer.size() > 5 && tokenizer.compare(tokenizer.size() - 5, 5, ".json") == 0;
  const std::string tokenizer_bytes = tokenizer != "bytes" ? read_file(tokenizer) : "";
  const auto src = resolve_model(ctx);
  if (S > src.config.max_position_embeddings)
    throw core::Error(core::msg("pretrain: seq_len ", S, " exceeds the config's max_position_embeddings ", src.config.max_position_embeddings));
  core::ModelOptions mo = model_options(ctx, src, S);
  mo.dtype = at::kFloat;
  if (mo.device.is_cuda()) at::globalContext().setAllowTF32CuBLAS(true);
  auto model = core::make_causal_lm(src.config, mo, src.checkpoint, seed);
  model->train_base_weights(true);

  TokenMixture data(p, src.config.vocab_size, seed);
  std::unique_ptr<core::TokenFile> eval;
  if (p.contains("eval_data")) {
    Json ep{{"data", p["eval_data"]}};
    if (p.contains("data_format")) ep["data_format"] = p["data_format"];
    eval = open_token_data(ep, src.config.vocab_size);
  }
  const int64_t eval_every = p.value("eval_every", int64_t{0}), eval_n = p.value("eval_sequences", int64_t{16});

  core::TrainConfig tc;
  tc.lr = p.value("lr", 1e-3);
  tc.warmup_steps = p.value("warmup", std::max<int64_t>(1, steps / 20));
  if (fit_to_time) steps = std::numeric_limits<int64_t>::max();
  tc.total_steps = fit_to_time ? tc.warmup_steps + 1 : steps;
  tc.schedule = "cosine";
  tc.min_lr_ratio = p.value("min_lr_ratio", 0.1);
  tc.weight_decay = p.value("weight_decay", 0.1);
  tc.grad_clip = p.value("grad_clip", 1.0);
  tc.beta2 = p.value("beta2", 0.95);
  tc.loss_chunk = p.value("loss_chunk", int64_t{2048});
  if (steps <= tc.warmup_steps) throw core::Error(core::msg("pretrain: steps ", steps, " must exceed warmup ", tc.warmup_steps));
  core::Trainer trainer(*model, tc);

  const bool measured = mo.device.is_cuda();
  const auto t0 = Clock::now();
  const auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  std::deque<double> recent;  // the last 20 losses: the reported final loss is their mean
  int64_t done = 0;
  double eval_loss = -1;
  bool stopped_early = false;
  for (int64_t i = 0; i < steps; ++i) {
    std::vector<at::Tensor> rows;
    for (int64_t b = 0; b < B; ++b) rows.push_back(data.next(S));
    const auto r = trainer.step(at::stack(rows));
    done = i + 1;
    if (fit_to_time && done == tc.warmup_steps) {
      // Timed over the warm-up; 3% is left for the held-out evaluations and the save.
      const double per_step = seconds() / static_cast<double>(done);
      steps = std::max<int64_t>(done + 1, static_cast<int64_t>(0.97 * max_seconds / per_step));
      trainer.set_total_steps(steps);
      emit(protocol::make_metric("planned_steps", static_cast<double>(steps), "steps", {{"step", done}}));
    }
    recent.push_back(r.loss);
    if (recent.size() > 20) recent.pop_front();
    if (i % log_every == 0 || i + 1 == steps) {
      Json phase = Json::object();
      double sum = 0;
      for (const auto& [n, ms] : r.phase_ms) { phase[n] = ms; sum += ms; }
      phase["total"] = sum;
      const Json mem = measured ? Json{{"peak_allocated", r.peak.peak_allocated}, {"peak_reserved", r.peak.peak_reserved}}
                                : Json{{"peak_allocated", nullptr}, {"peak_reserved", nullptr}};
      emit(protocol::make_step(i, phase, mem, {{"loss", r.loss}, {"grad_norm", r.grad_norm}, {"lr", r.lr}, {"tokens", B * S}, {"elapsed_s", seconds()}}));
    }
    if (eval && eval_every > 0 && (i + 1) % eval_every == 0 && i + 1 < steps) {
      const double l = held_out_loss(*model, *eval, eval_n, S, seed + 101, tc.loss_chunk);
      emit(protocol::make_metric("eval_loss", l, "nats/token", {{"step", i + 1}}));
    }
    if (max_seconds > 0 && seconds() > max_seconds && i + 1 < steps) {
      stopped_early = true;
      break;
    }
  }
  const double train_seconds = seconds();
  if (eval) {
    eval_loss = held_out_loss(*model, *eval, eval_n, S, seed + 101, tc.loss_chunk);
    emit(protocol::make_metric("eval_loss", eval_loss, "nats/token", {{"step", done}}));
  }

  double final_loss = 0;
  for (double l : recent) final_loss += l / static_cast<double>(recent.size());
  Json info{{"steps", done}, {"planned_steps", fit_to_time && done < tc.warmup_steps ? done : steps}, {"stopped_early", stopped_early}, {"tokens", done * B * S},
            {"seq_len", S}, {"batch", B}, {"lr", tc.lr}, {"final_loss", final_loss}, {"seconds", train_seconds},
            {"params", src.config.num_params()}, {"data", p["data"]}, {"trainer", "jenga-worker pretrain"}};
  if (eval) {
    info["eval_loss"] = eval_loss;
    info["eval_data"] = p["eval_data"];
  }
  std::map<std::string, std::string> extra{{"pretrain.json", info.dump(2) + "\n"}};
  if (!tokenizer_bytes.empty()) extra[json_tokenizer ? "tokenizer.json" : "tokenizer.model"] = tokenizer_bytes;
  model->save_pretrained(out, save_dtype == "bf16" ? at::kBFloat16 : at::kFloat, extra);

  Json s{{"steps", done}, {"tokens", done * B * S}, {"final_loss", final_loss}, {"train_seconds", train_seconds},
         {"tokens_per_s", static_cast<double>(done * B * S) / train_seconds}, {"base_params", src.config.num_params()},
         {"stopped_early", stopped_early ? 1 : 0}};
  if (eval) s["held_out_loss"] = eval_loss;  // not "eval_loss": the metric curve goes by that name
  return s;
}

}  // namespace jenga::worker
