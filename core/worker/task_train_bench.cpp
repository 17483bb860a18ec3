// `train-bench`: LoRA fine-tuning steps on random tokens; per-step time and memory, then a
// summary (peak memory, median step time, throughput, MFU). Params:
//   seq_len (required), method (base | llora | jenga | 2d | offload), steps (6), warmup (2: excluded from medians, not from
//   the peak), checkpointing (false), dtype (bf16|fp32), lora_rank (8), lora_alpha (16),
//   lora_targets ([q,k,v,o]), loss (segmented|dense), loss_chunk (2048), seed (0),
//   rope_linear_factor (auto: seq_len / max_position_embeddings when longer, else 1),
//   peak_tflops (measured matmul peak, for MFU; see task gemm-peak), data (a token file: real text
//   instead of random tokens), data_format (auto|uint16|uint32), lr (2e-5), schedule
//   (constant|cosine), grad_clip (1.0), timeline (false: per-layer allocation timeline as
//   metric records "mem_allocated_mib" tagged {step, t_ms, label}).
//   jenga: kept_fraction (0.4), first_sparse_layer (-1: auto), last_layer_dense (true),
//   mlp_prune_ratio (0.8), mlp_prune_layers (all|sparse|none), selector (predictor|exact),
//   predictors (a directory of trained predictors; default: seeded random init, for systems runs).
//   llora: LongLoRA shifted sparse attention in every layer, attention_groups (4).
//   2d: jenga's elimination, then shifted sparse attention among the kept tokens, attention_groups (8).
//   offload: jenga with each layer's input in pinned host memory (checkpointing); offload (false)
//   turns the same on for any method.
//   fused_rows (true): move kept rows by block lists in fused kernels (CUDA); false: index ops.
//   time_selection (false): synchronise around each block selection and report its time per step
//   (selection_ms: predictors or exact maps plus top-k; the overhead of choosing tokens).
//   eval_data (a held-out token file, same format as data), eval_sequences (0): after training, the
//   mean loss on that many held-out sequences with every token (eval_loss) and, for methods that
//   eliminate tokens, with the method's own forward (eval_loss_method); eval_lengths (list) and
//   eval_windows (4): perplexity of the fine-tuned model at each length (Table 7; metric ppl
//   tagged {eval_len}, summary ppl_<L>). save_adapter: a directory for the trained LoRA adapter.
//   longbench_data (+ longbench_limit, longbench_max_context, tokenizer): LongBench-format scores
//   of the fine-tuned model (Table 6), as task longbench. niah_lengths (+ niah_depths, niah_trials,
//   niah_data: the haystack, default eval_data): the needle-in-a-haystack grid, as task niah.
//   gpus (1): data parallelism, one replica per CUDA device (each its own sequence, gradients
//   averaged after backward: phase "allreduce"); times and memory are replica 0's (peak: the
//   largest), tokens_per_s counts every replica's tokens, loss is their mean.
#include "model_source.hpp"
#include "run_setup.hpp"
#include "task.hpp"
#include "timing.hpp"
#include "train_eval.hpp"
#include "train_replicas.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/sparsity/token_elimination.hpp"
#include "jenga/core/train/loss.hpp"
#include "jenga/core/train/token_file.hpp"
#include "jenga/core/train/trainer.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

namespace jenga::worker {
namespace {

// CPU runs have no allocator statistics: their memory fields are null (missing), never 0.
Json mem_json(const core::MemoryStats& m, bool measured) {
  if (!measured) return Json{{"allocated", nullptr}, {"peak_allocated", nullptr}, {"reserved", nullptr}, {"peak_reserved", nullptr}};
  return Json{{"allocated", m.allocated}, {"peak_allocated", m.peak_allocated}, {"reserved", m.reserved}, {"peak_reserved", m.peak_reserved}};
}

// FLOPs of one LoRA step with a frozen base (no weight gradients): matmuls 2·N·S forward and
// 2·N·S backward (input gradients only); causal attention 2·S²·heads·head_dim·layers forward
// and twice that backward. Recomputation (checkpointing) is not counted, as MFU conventions go.
double step_flops(const core::ModelConfig& c, int64_t S) {
  const bool opt = c.family == core::Family::Opt;
  const double E = static_cast<double>(opt && c.word_embed_proj_dim > 0 ? c.word_embed_proj_dim : c.hidden_size);
  const double table = static_cast<double>(c.vocab_size) * E;
  // Lookups are not matmuls (token and OPT position tables); the LM head is, tied or not.
  double matmul_params = static_cast<double>(c.num_params()) - table;
  if (opt) matmul_params -= static_cast<double>(c.max_position_embeddings + 2) * static_cast<double>(c.hidden_size);
  if (c.tie_word_embeddings || opt) matmul_params += table;
  const double matmul = 4.0 * matmul_params * static_cast<double>(S);
  const double attn = 3.0 * 2.0 * static_cast<double>(S) * static_cast<double>(S) * static_cast<double>(c.num_heads * c.head_dim * c.num_layers);
  return matmul + attn;
}

}  // namespace

Json task_train_bench(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"seq_len", "method", "steps", "warmup", "checkpointing", "dtype", "lora_rank", "lora_alpha",
                           "lora_targets", "loss", "loss_chunk", "seed", "rope_linear_factor", "peak_tflops",
                           "data", "data_format", "lr", "schedule", "grad_clip", "timeline", "kept_fraction",
                           "first_sparse_layer", "last_layer_dense", "mlp_prune_ratio", "mlp_prune_layers", "selector",
                           "predictors", "attention_groups", "offload", "eval_data", "eval_sequences", "eval_lengths", "eval_windows", "save_adapter", "time_selection",
                           "fused_rows", "gpus", "longbench_data", "longbench_limit", "longbench_max_context", "longbench_max_new_tokens", "tokenizer", "niah_lengths",
                           "niah_depths", "niah_trials", "niah_data"},
                       "train-bench");
  if (!p.contains("seq_len")) throw core::Error("train-bench: params.seq_len is required");
  const int64_t S = p["seq_len"].get<int64_t>();
  const std::string method = p.value("method", std::string("base"));
  if (method != "base" && method != "llora" && method != "jenga" && method != "2d" && method != "offload")
    throw core::Error(core::msg("train-bench: unknown method '", method, "' (base, llora, jenga, 2d, offload)"));
  const bool eliminates = method == "jenga" || method == "2d" || method == "offload";
  if (!eliminates)
    for (const char* k : {"kept_fraction", "first_sparse_layer", "last_layer_dense", "mlp_prune_ratio", "mlp_prune_layers", "selector", "predictors"})
      if (p.contains(k)) throw core::Error(core::msg("train-bench: '", k, "' applies to methods jenga, 2d and offload, not ", method));
  if (p.contains("attention_groups") && method != "llora" && method != "2d")
    throw core::Error(core::msg("train-bench: 'attention_groups' applies to methods llora and 2d, not ", method));
  const int64_t groups = p.value("attention_groups", method == "llora" ? 4 : method == "2d" ? 8 : 1);
  if (groups < 1) throw core::Error(core::msg("train-bench: attention_groups must be >= 1, got ", groups));
  const int steps = p.value("steps", 6), warmup = p.value("warmup", 2);
  if (S < 2 || steps <= warmup || warmup < 0) throw core::Error(core::msg("train-bench: need seq_len >= 2 and steps > warmup >= 0"));

  auto src = resolve_model(ctx);
  extend_positions_for_random_init(src, S);
  core::ModelOptions mo = model_options(ctx, src, S);
  mo.gradient_checkpointing = p.value("checkpointing", false);
  mo.offload_activations = p.value("offload", method == "offload");

  const uint64_t seed = p.value("seed", 0);
  core::TrainConfig tc;
  tc.segmented_loss = p.value("loss", std::string("segmented")) == "segmented";
  tc.loss_chunk = p.value("loss_chunk", 2048);
  tc.lr = p.value("lr", tc.lr);
  tc.schedule = p.value("schedule", tc.schedule);
  tc.grad_clip = p.value("grad_clip", tc.grad_clip);
  tc.warmup_steps = warmup;
  tc.total_steps = steps;
  tc.timeline = p.value("timeline", false);
  const int gpus = p.value("gpus", 1);
  ReplicaSet set = build_replicas(p, src, mo, tc, gpus, eliminates, groups, seed);
  Replica& lead = set.replicas.front();  // reports time, memory and the adapter for everyone
  core::CausalLM* model = lead.model.get();
  core::TokenEliminator* elim = lead.elim.get();
  const auto data = open_token_data(p, src.config.vocab_size);
  const auto weights = core::memory_stats(mo.device);

  const bool measured = mo.device.is_cuda();
  auto gen = at::detail::createCPUGenerator(seed + 2);
  std::vector<double> fwd, bwd, opt, sync_ms, total, selection;
  core::MemoryStats peak;
  double last_loss = 0, kept_sum = 0;
  std::vector<torch::Tensor> ids(static_cast<size_t>(gpus));
  std::vector<core::StepResult> res(static_cast<size_t>(gpus));
  auto phase_of = [](const core::StepResult& r, const char* name) {
    for (const auto& [n, ms] : r.phase_ms)
      if (n == name) return ms;
    return 0.0;
  };
  for (int i = 0; i < steps; ++i) {
    // Replica k of step i trains on sequence i * gpus + k: with one GPU, sequence i as always.
    for (int k = 0; k < gpus; ++k)
      ids[static_cast<size_t>(k)] = training_sequence(data.get(), int64_t{i} * gpus + k, S, seed, src.config.vocab_size, gen);
    set.pool->run([&](int k) {
      auto& rep = set.replicas[static_cast<size_t>(k)];
      core::set_current_device(rep.device);
      res[static_cast<size_t>(k)] = rep.trainer->step(ids[static_cast<size_t>(k)], rep.hooks);
    });
    const core::StepResult& r = res.front();
    // One trace, of the last step (after warm-up; the allocator's pools are settled by then).
    if (i == steps - 1)
      for (const auto& pt : r.timeline) {
        auto rec = protocol::make_metric("mem_allocated_mib", pt.allocated_mib, "MiB", {{"step", i}, {"t_ms", pt.t_ms}, {"label", pt.label}});
        if (!measured) rec["value"] = nullptr;  // CPU: no allocator statistics
        emit(rec);
      }
    Json phase = Json::object();
    double sum = 0;
    for (const auto& [n, ms] : r.phase_ms) { phase[n] = ms; sum += ms; }
    phase["total"] = sum;
    Json mem = mem_json(r.peak, measured);
    for (const auto& [n, m] : r.phase_memory) mem[n + "_allocated"] = measured ? Json(m.allocated) : Json(nullptr);
    const double kept = elim ? elim->last_kept_fraction() : 1.0;
    double loss = 0;
    for (const auto& x : res) loss += x.loss / static_cast<double>(gpus);
    Json extra{{"loss", loss}, {"grad_norm", r.grad_norm}, {"lr", r.lr}, {"warmup", i < warmup}, {"tokens", S * gpus}, {"kept_fraction", kept}};
    if (gpus > 1) {  // forward + backward per replica: how far apart they reach the all-reduce
      Json each = Json::array();
      for (const auto& x : res) each.push_back(phase_of(x, "forward") + phase_of(x, "backward"));
      extra["replica_compute_ms"] = each;
    }
    emit(protocol::make_step(i, phase, mem, extra));
    kept_sum += kept;
    for (const auto& x : res) {
      peak.peak_allocated = std::max(peak.peak_allocated, x.peak.peak_allocated);
      peak.peak_reserved = std::max(peak.peak_reserved, x.peak.peak_reserved);
    }
    last_loss = loss;
    if (i >= warmup) {
      fwd.push_back(phase_of(r, "forward"));
      bwd.push_back(phase_of(r, "backward"));
      opt.push_back(phase_of(r, "optimizer"));
      sync_ms.push_back(phase_of(r, "allreduce"));
      total.push_back(sum);
      if (elim) selection.push_back(elim->last_selection_ms());
    }
  }
  const Json eval_values = evaluate_after_training(*model, src, p, S, seed, lead.hooks, elim || groups > 1);
  if (p.contains("save_adapter")) model->save_adapter(p["save_adapter"].get<std::string>());
  const double step_ms = median(total);
  const auto mib = [&](double v) { return measured ? Json(v) : Json(nullptr); };
  Json s{{"peak_allocated_mib", mib(peak.peak_allocated)}, {"peak_reserved_mib", mib(peak.peak_reserved)},
         {"weights_mib", mib(weights.allocated)}, {"step_ms", step_ms}, {"forward_ms", median(fwd)},
         {"backward_ms", median(bwd)}, {"optimizer_ms", median(opt)}, {"tokens_per_s", 1000.0 * S * gpus / step_ms},
         {"model_tflops", step_flops(src.config, S) / (step_ms * 1e-3) / 1e12}, {"final_loss", last_loss},
         {"base_params", src.config.num_params()}, {"kept_fraction", kept_sum / steps}};
  if (gpus > 1) {
    s["gpus"] = gpus;
    s["allreduce_ms"] = median(sync_ms);
  }
  if (elim) {
    s["predictor_params"] = elim->predictor_params();
    s["predictor_mib"] = static_cast<double>(elim->predictor_bytes()) / (1024.0 * 1024.0);
    if (p.value("time_selection", false)) s["selection_ms"] = median(selection);
  }
  for (const auto& [k, v] : eval_values.items()) s[k] = v;
  int64_t lora_params = 0;
  for (const auto& t : model->trainable_parameters()) lora_params += t.numel();
  s["lora_params"] = lora_params;
  // Fig 14's memory breakdown: the fp32 adapters with their gradients and AdamW's two moments, the
  // predictors' weights, and the rest of the peak (activations, workspaces) above the weights.
  if (measured) {
    const double lora_mib = static_cast<double>(lora_params) * 4.0 * 4.0 / (1024.0 * 1024.0);
    const double pred_mib = elim ? static_cast<double>(elim->predictor_bytes()) / (1024.0 * 1024.0) : 0.0;
    const double base_mib = static_cast<double>(model->base_weight_bytes()) / (1024.0 * 1024.0);
    s["base_weights_mib"] = base_mib;
    s["lora_optimizer_mib"] = lora_mib;
    s["activations_mib"] = std::max(0.0, peak.peak_allocated - base_mib - lora_mib - pred_mib);
    s["predictor_weights_mib"] = pred_mib;
  }
  if (p.contains("peak_tflops")) s["mfu"] = s["model_tflops"].get<double>() / p["peak_tflops"].get<double>();
  return s;
}

}  // namespace jenga::worker
