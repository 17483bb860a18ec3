#include "task.hpp"

#include "jenga/core/error.hpp"

#include <algorithm>

namespace jenga::worker {

Json task_info(TaskContext&);
Json task_selftest(TaskContext&);
Json task_train_bench(TaskContext&);
Json task_gemm_peak(TaskContext&);
Json task_predictor_train(TaskContext&);
Json task_ppl(TaskContext&);
Json task_longbench(TaskContext&);
Json task_niah(TaskContext&);
Json task_pack(TaskContext&);
Json task_pretrain(TaskContext&);
Json task_attention_bench(TaskContext&);
Json task_prefill_bench(TaskContext&);
Json task_minference_search(TaskContext&);
Json task_decode_bench(TaskContext&);
Json task_pce_ppl(TaskContext&);

void require_known_params(const Json& params, const std::vector<std::string>& known, const std::string& task) {
  static const std::vector<std::string> common = {"model", "device", "hf_config", "checkpoint", "weights"};
  for (const auto& [key, value] : params.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (std::find(common.begin(), common.end(), key) != common.end()) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw core::Error(core::msg(task, ": unknown parameter '", key, "' (expected one of: ", list, ")"));
  }
}

const std::vector<Task>& all_tasks() {
  static const std::vector<Task> tasks = {
      {"info", "report provenance (versions, GPU, driver) and device memory", task_info},
      {"selftest", "a real forward/backward/AdamW loop on a small MLP; checks the loss falls", task_selftest},
      {"train-bench", "LoRA fine-tuning steps (random tokens or a token file): time and memory per step, MFU",
       task_train_bench,
       "  seq_len (required)      tokens per sequence (batch 1)\n"
       "  method                  base (dense LoRA) | llora (LongLoRA S2-attn) | jenga (token\n"
       "                          elimination) | 2d (jenga + S2-attn) | offload (jenga + host) [base]\n"
       "  steps, warmup           steps run; the first `warmup` are left out of medians    [6, 2]\n"
       "  checkpointing           recompute each layer in backward                         [false]\n"
       "  offload                 checkpointing with layer inputs in pinned host memory   [method offload]\n"
       "  dtype                   bf16 | fp32                                              [bf16]\n"
       "  lora_rank, lora_alpha   adapter rank and alpha                                   [8, 16]\n"
       "  lora_targets            projections: q k v o gate up down (Llama), fc1 fc2 (OPT)  [q,k,v,o]\n"
       "  lr, schedule, grad_clip AdamW lr, constant|cosine after warmup, max grad norm     [2e-5, constant, 1]\n"
       "  loss, loss_chunk        segmented (fused linear cross-entropy) | dense; rows/chunk [segmented, 2048]\n"
       "  data, data_format       token file instead of random tokens; auto|uint16|uint32  [-, auto]\n"
       "  timeline                per-layer allocation timeline as metric records          [false]\n"
       "  eval_data, eval_sequences  held-out token file; loss on N sequences after training [-, 0]\n"
       "  eval_lengths, eval_windows  perplexity at each length after training (Table 7)  [-, 4]\n"
       "  longbench_data          LongBench JSON lines scored after training (Table 6)    [-]\n"
       "  longbench_limit, longbench_max_context, longbench_max_new_tokens, tokenizer   as task longbench's\n"
       "  niah_lengths, niah_depths, niah_trials, niah_data   needle-in-a-haystack grid after training\n"
       "  save_adapter            directory for the trained LoRA adapter                  [-]\n"
       "  gpus                    data parallel: one replica per GPU, grads averaged       [1]\n"
       "  rope_linear_factor      extra RoPE linear scaling     [seq_len / max positions when longer, else 1]\n"
       "  peak_tflops             measured matmul peak (task gemm-peak), for MFU           [-]\n"
       "  seed                                                                             [0]\n"
       " llora and 2d:\n"
       "  attention_groups        shifted sparse attention groups per sequence   [llora 4, 2d 8]\n"
       " jenga, 2d and offload:\n"
       "  kept_fraction           fraction of 64-token blocks kept in a sparse layer      [0.4]\n"
       "  first_sparse_layer      layers below stay dense; -1 = num_layers / 2 - 1           [-1]\n"
       "  last_layer_dense        the last layer sees every token                          [true]\n"
       "  mlp_prune_ratio         MLP channel pruning for backward; 0 = exact              [0.8]\n"
       "  mlp_prune_layers        all | sparse | none                                      [all]\n"
       "  selector                predictor | exact (oracle block map)                     [predictor]\n"
       "  predictors              directory of trained predictors (layer_<i>.safetensors)  [random init]\n"
       "  time_selection          report the block selection's time per step (syncs)      [false]\n"
       "  fused_rows              kept rows move by block lists in fused kernels (CUDA)   [true]\n"
       " model: --model-spec from the harness, or params hf_config / checkpoint; device: auto|cpu|cuda[:N]\n"},
      {"predictor-train", "trains Jenga's block predictors against a frozen model's exact block maps; saves them",
       task_predictor_train,
       "  seq_len (required)      tokens per sequence                                       \n"
       "  output (required)       directory for layer_<i>.safetensors (train-bench predictors=)\n"
       "  steps                   optimisation steps                                       [400]\n"
       "  init                    directory of predictors to start from                  [random init]\n"
       "  lr                      AdamW learning rate (betas 0.9, 0.95)                    [2e-5]\n"
       "  target_scale            exact maps are divided by this        [Llama 1024, OPT 4096]\n"
       "  normalize_targets       divide each exact map by its own maximum instead         [false]\n"
       "  prune_every, prune_zero_ratio  remove neurons dead in >= ratio of activations   [100, 0.8]\n"
       "  kept_fraction, first_sparse_layer, last_layer_dense  the policy (sparse layers, recall) [as train-bench]\n"
       "  data, data_format       token file instead of random tokens                     [-, auto]\n"
       "  dtype, seed, rope_linear_factor                                                   [bf16, 0, auto]\n"},
      {"ppl", "perplexity over windows of a token file at one or several lengths (scored suffix)", task_ppl,
       "  seq_lens | seq_len     window lengths (a list, or one)                           \n"
       "  data (required)         token file; data_format auto|uint16|uint32              [auto]\n"
       "  windows                 windows per length, spread over the file               [8]\n"
       "  score_last              tokens scored at the end of each window           [seq_len / 2]\n"
       "  adapter                 PEFT LoRA adapter directory to load                    [-]\n"
       "  dtype, rope_linear_factor, seed            [bf16, longest length / max positions, 0]\n"},
      {"longbench", "LongBench-format evaluation: greedy answers to JSON-lines samples, scored per dataset", task_longbench,
       "  data (required)         LongBench JSON lines: a path or a list of paths           \n"
       "  tokenizer               directory with tokenizer.model, or bytes        [the checkpoint's]\n"
       "  adapter                 PEFT LoRA adapter directory to load                    [-]\n"
       "  max_context             prompt tokens kept (the middle is cut)                 [3500]\n"
       "  max_new_tokens          tokens generated; 0 = the dataset's own (LongBench's)  [0]\n"
       "  limit                   samples per dataset; 0 = all                           [0]\n"
       "  dtype, rope_linear_factor, seed            [bf16, max_context / max positions, 0]\n"},
      {"niah", "needle in a haystack: a pass key at each depth x length of real text, greedy answers", task_niah,
       "  lengths (required)      prompt lengths in tokens (a list)                         \n"
       "  data (required)         haystack token file (tokenized as the model's tokenizer)  \n"
       "  depths                  needle depths in [0, 1]                   [0, .25, .5, .75, 1]\n"
       "  trials                  needles per cell                                       [3]\n"
       "  tokenizer, adapter, dtype, rope_linear_factor, seed  [checkpoint's, -, bf16, auto, 0]\n"},
      {"pack", "documents (text, JSON lines, LongAlign, LongBench) -> one token file (llm.c layout)", task_pack,
       "  input (required)        a path or a list of paths                                 \n"
       "  output (required)       the token file to write (renamed into place when done)    \n"
       "  tokenizer (required)    bytes | a SentencePiece .model | a directory with tokenizer.model\n"
       "  format                  auto | text | jsonl | longalign | longbench             [auto]\n"
       "  field                   the JSON field holding a document (jsonl)              [text]\n"},
      {"pretrain", "full-parameter training from random init on a token file -> an HF checkpoint", task_pretrain,
       "  data, out, seq_len, steps (required)  token file(s, mixed by size); checkpoint dir; tokens per\n"
       "                          sequence; optimizer steps                                 \n"
       "  batch                   sequences per step (packed, each attending only itself)  [8]\n"
       "  max_seconds             stop early after this long (0: never)                    [0]\n"
       "  lr, warmup, min_lr_ratio  AdamW peak lr; linear warmup; cosine down to lr*ratio  [1e-3, steps/20, 0.1]\n"
       "  weight_decay, beta2, grad_clip  (decay on matrices only)                        [0.1, 0.95, 1]\n"
       "  eval_data, eval_every, eval_sequences  held-out loss during and after training  [-, 0: end, 16]\n"
       "  save_dtype              bf16 | fp32 weights in model.safetensors                 [bf16]\n"
       "  tokenizer               .model or tokenizer.json copied into the checkpoint  [bytes: none]\n"
       "  data_format, loss_chunk, log_every, seed                         [auto, 2048, 10, 0]\n"},
      {"attention-bench", "block-sparse attention vs dense SDPA at one length: time per density and layout", task_attention_bench,
       "  seq_len (required)      tokens                                                    \n"
       "  heads, kv_heads, head_dim  query heads, key/value heads, head size        [32, 8, 128]\n"
       "  dtype                   bf16 | fp16 | fp32 (the CUDA kernels take bf16, fp16)   [bf16]\n"
       "  densities               top-k block layouts at these fractions           [0.1 .. 0.9]\n"
       "  a_shape_local           A-shape layouts with these local windows (tokens) [1024, 4096]\n"
       "  block_q, iters, warmup, backward, seed                      [64, 5, 2, true, 0]\n"},
      {"prefill-bench", "pre-fill latency of a whole model: dense, StreamingLLM or MInference attention", task_prefill_bench,
       "  seq_len (required)      context length in tokens                                   \n"
       "  method                  dense | streaming | minference                         [dense]\n"
       "  sink_tokens, local_tokens  streaming's attention sinks and local window      [64, 4096]\n"
       "  patterns                minference: a pattern file (default: vertical-slash, scaled)\n"
       "  iters, warmup, dtype, seed, data, data_format              [3, 1, bf16, 0, random, auto]\n"},
      {"decode-bench", "decoding with key selection (Spotlight, Quest, StreamingLLM): PPL, IoU with true top-k, ms/token",
       task_decode_bench,
       "  context (required)      tokens pre-filled (dense) before the scored decode steps     \n"
       "  method                  dense | streaming | quest | spotlight_random | spotlight_trained [dense]\n"
       "  pruning                 fraction of keys dropped (quest: of pages)             [0.9]\n"
       "  decode_tokens, windows  teacher-forced decode steps per window; windows       [64, 1]\n"
       "  data, data_format       token file (PPL + IoU); none: random tokens, latency   [-, auto]\n"
       "  bits                    Spotlight hash bits                                     [32]\n"
       "  train_steps, train_top_k, train_queries, train_context, train_lr  spotlight_trained\n"
       "                          (ranking loss on a held-out window's q/k)  [200, 32, 32, min(ctx,1024), 1e-2]\n"
       "  page_size, sink_tokens, dense_layers   quest pages; streaming sinks; dense first layers [16, 4, 2]\n"
       "  iou, dtype, seed, rope_linear_factor            [data given, bf16, 0, auto]\n"},
      {"pce-ppl", "perplexity of a scored suffix under parallel context encoding: P pieces, sink prefix, top-k", task_pce_ppl,
       "  data (required)         held-out token file; data_format auto|uint16|uint32     [auto]\n"
       "  context, suffix (required)  context tokens (multiple of block), scored suffix tokens\n"
       "  pieces (required)       P pieces the context is cut into; 1 = causal reference      \n"
       "  top_k                   suffix reads the top-k pieces per head; 0 = all         [0]\n"
       "  n_sink, block           shared prefix tokens, piece granularity               [64, 64]\n"
       "  windows                 consecutive windows of n_sink + context + suffix       [8]\n"
       "  adapter, dtype, rope_linear_factor, seed          [-, bf16, largest position / max, 0]\n"},
      {"minference-search", "MInference's offline per-head pattern search on a sample -> a pattern file", task_minference_search,
       "  out, seq_len (required) the pattern file to write; tokens of the sample          \n"
       "  data, data_format, window  the sample: sequence `window` of a token file      [random]\n"
       "  max_density, eval_queries, spread   the search's budget and recall queries [1, 64, false]\n"
       "  adapter, dtype, seed, rope_linear_factor                     as the other eval tasks\n"},
      {"gemm-peak", "measured bf16 matrix-product TFLOP/s of the device (the MFU denominator)", task_gemm_peak},
  };
  return tasks;
}

}  // namespace jenga::worker
