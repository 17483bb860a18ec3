#include "jenga/core/model/causal_lm.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/io/safetensors.hpp"
#include "io/posix_files.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>

namespace jenga::core {
namespace {

std::string module_name(const std::string& path) { return path.substr(path.rfind('.') + 1); }

}  // namespace

torch::Tensor CausalLM::logits(const torch::Tensor& ids, const LayerHooks& hooks) {
  const auto h = forward_hidden(ids, hooks);
  return at::linear(h, lm_head_weight()).to(at::kFloat);
}

void CausalLM::materialize(const std::vector<WeightSpec>& specs, const std::string& checkpoint_dir, uint64_t seed) {
  const auto opts = at::TensorOptions().dtype(options_.dtype).device(options_.device);
  if (checkpoint_dir.empty()) {
    // Random init straight on the target device (a 7B model initialised on the CPU takes minutes).
    at::manual_seed(seed);
    for (const auto& s : specs) {
      at::Tensor t;
      switch (s.init) {
        case WeightSpec::Init::Normal: t = at::empty(s.shape, opts).normal_(0.0, 0.02); break;
        case WeightSpec::Init::Ones: t = at::ones(s.shape, opts); break;
        case WeightSpec::Init::Zeros: t = at::zeros(s.shape, opts); break;
      }
      weights_[s.name] = t;
    }
    return;
  }
  const Checkpoint ckpt(checkpoint_dir);
  for (const auto& s : specs) {
    if (!ckpt.contains(s.name)) throw Error(msg(checkpoint_dir, ": checkpoint has no tensor '", s.name, "'"));
    auto t = ckpt.load(s.name, options_.device, options_.dtype);
    if (t.sizes().vec() != s.shape)
      throw Error(msg(checkpoint_dir, ": tensor '", s.name, "' has shape ", t.sizes(), ", config.json implies ", at::IntArrayRef(s.shape)));
    weights_[s.name] = t;
  }
}

void CausalLM::mark_layer(const LayerHooks& hooks, int64_t i, const torch::Tensor& out) {
  if (!hooks.mark) return;
  hooks.mark("forward/layer " + std::to_string(i));
  if (out.requires_grad()) {
    auto mark = hooks.mark;
    out.register_hook([mark, i](const torch::Tensor&) { mark("backward/layer " + std::to_string(i)); });
  }
}

int64_t CausalLM::packed_segment(const torch::Tensor& ids, const LayerHooks& hooks, const char* arch) {
  if (ids.dim() == 1) return 0;
  if (ids.dim() != 2 || ids.size(1) == 0)
    throw Error(msg(arch, ": expected token ids of shape [S] or [B, S], got ", ids.sizes()));
  if (ids.size(0) == 1) return 0;
  if (hooks.select_tokens || hooks.attention_groups || hooks.attention_layout || hooks.positions.defined())
    throw Error(msg(arch, ": token selection, attention groups, attention layouts and explicit positions work on one "
                          "sequence; got a batch of ", ids.size(0)));
  return ids.size(1);
}

torch::Tensor CausalLM::packed_positions(int64_t S, int64_t segment, int64_t offset) const {
  auto pos = at::arange(S, at::TensorOptions().dtype(at::kLong).device(options_.device));
  if (segment > 0) pos = pos.remainder(segment);
  return offset != 0 ? pos + offset : pos;
}

const torch::Tensor& CausalLM::w(const std::string& name) const {
  const auto it = weights_.find(name);
  if (it == weights_.end()) throw Error(msg("model has no weight '", name, "'"));
  return it->second;
}

torch::Tensor CausalLM::w_or_undefined(const std::string& name) const {
  const auto it = weights_.find(name);
  return it == weights_.end() ? torch::Tensor() : it->second;
}

int64_t CausalLM::base_weight_bytes() const {
  int64_t bytes = 0;
  for (const auto& [name, t] : weights_) bytes += t.numel() * static_cast<int64_t>(t.element_size());
  return bytes;
}

const LoraPair& CausalLM::lora_for(const std::string& module_path) const {
  static const LoraPair none;
  const auto it = lora_.find(module_path);
  return it == lora_.end() ? none : it->second;
}

void CausalLM::add_lora(const LoraConfig& cfg, uint64_t seed) {
  lora_cfg_ = cfg;
  lora_.clear();
  auto gen = at::detail::createCPUGenerator(seed);
  for (const auto& [path, short_name] : lora_sites()) {
    if (!cfg.targets_projection(short_name)) continue;
    const auto& W = w(path + ".weight");
    lora_[path] = make_lora_pair(W.size(1), W.size(0), cfg.rank, options_.device, gen,
                                 options_.dtype == at::kDouble ? at::kDouble : at::kFloat);
  }
  if (lora_.empty()) throw Error(msg("LoRA: no projection of this model matches targets (q k v o gate up down fc1 fc2)"));
}

std::map<std::string, torch::Tensor> CausalLM::lora_state() const {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [path, p] : lora_) {
    out["base_model.model." + path + ".lora_A.weight"] = p.A;
    out["base_model.model." + path + ".lora_B.weight"] = p.B;
  }
  return out;
}

std::vector<torch::Tensor> CausalLM::trainable_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& [path, p] : lora_) {
    out.push_back(p.A);
    out.push_back(p.B);
  }
  if (base_trained_)
    for (const auto& [name, t] : weights_) out.push_back(t);
  return out;
}

void CausalLM::train_base_weights(bool on) {
  if (on && options_.dtype != at::kFloat && options_.dtype != at::kDouble)
    throw Error(msg("train_base_weights: the base weights are the optimizer's masters and must be fp32 or fp64, got ",
                    c10::toString(options_.dtype)));
  for (auto& [name, t] : weights_) t.set_requires_grad(on);
  base_trained_ = on;
}

void CausalLM::save_pretrained(const std::string& dir, torch::ScalarType dtype,
                               const std::map<std::string, std::string>& extra_files) const {
  const std::string partial = dir + ".partial";
  posix_files::remove_tree(partial);
  posix_files::make_directories(partial);
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : weights_) out[name] = t.detach().to(at::kCPU, dtype).contiguous();
  save_safetensors(partial + "/model.safetensors", out, {{"format", "pt"}});
  auto cfg = config_.to_json();
  cfg["torch_dtype"] = dtype == at::kBFloat16 ? "bfloat16" : dtype == at::kHalf ? "float16" : "float32";
  auto files = extra_files;
  files["config.json"] = cfg.dump(2) + "\n";
  for (const auto& [name, bytes] : files) {
    const std::string path = partial + "/" + name;
    std::ofstream f(path, std::ios::binary);
    f << bytes;
    if (!f) throw Error(msg("save_pretrained: cannot write ", path));
  }
  if (!posix_files::remove_tree(dir)) throw Error(msg("save_pretrained: cannot replace ", dir));
  if (const auto err = posix_files::rename_file(partial, dir); !err.empty())
    throw Error(msg("save_pretrained: cannot move ", partial, " to ", dir, ": ", err));
}

void CausalLM::save_adapter(const std::string& dir) const {
  if (lora_.empty()) throw Error(msg("save_adapter(", dir, "): the model has no LoRA adapters"));
  posix_files::make_directories(dir);
  save_safetensors(dir + "/adapter_model.safetensors", lora_state(), {{"format", "pt"}});
  std::set<std::string> modules;
  for (const auto& [path, p] : lora_) modules.insert(module_name(path));
  nlohmann::json cfg{{"peft_type", "LORA"}, {"task_type", "CAUSAL_LM"}, {"r", lora_cfg_.rank},
                     {"lora_alpha", lora_cfg_.alpha}, {"lora_dropout", 0.0}, {"bias", "none"},
                     {"target_modules", std::vector<std::string>(modules.begin(), modules.end())},
                     {"fan_in_fan_out", false}, {"inference_mode", true}, {"use_rslora", false},
                     {"use_dora", false}, {"modules_to_save", nullptr}, {"base_model_name_or_path", nullptr}};
  std::ofstream f(dir + "/adapter_config.json");
  f << cfg.dump(2) << "\n";
  if (!f) throw Error(msg("save_adapter: cannot write ", dir, "/adapter_config.json"));
}

void CausalLM::load_adapter(const std::string& dir) {
  const std::string cfg_path = dir + "/adapter_config.json";
  std::ifstream f(cfg_path);
  if (!f) throw Error(msg("load_adapter: cannot read ", cfg_path));
  nlohmann::json cfg = nlohmann::json::parse(f, nullptr, false);
  if (!cfg.is_object() || !cfg.contains("r") || !cfg.contains("lora_alpha") || !cfg.contains("target_modules"))
    throw Error(msg(cfg_path, ": expected an object with r, lora_alpha, target_modules"));
  if (cfg.value("use_dora", false) || cfg.value("use_rslora", false))
    throw Error(msg(cfg_path, ": DoRA / rsLoRA adapters are not supported"));
  std::set<std::string> modules;
  if (cfg["target_modules"].is_array()) {
    for (const auto& m : cfg["target_modules"]) modules.insert(m.get<std::string>());
  } else {
    throw Error(msg(cfg_path, ": target_modules must be a list of module names"));
  }
  LoraConfig lc;
  lc.rank = cfg["r"].get<int64_t>();
  lc.alpha = cfg["lora_alpha"].get<double>();
  lc.targets.clear();
  const SafetensorsFile st(dir + "/adapter_model.safetensors");
  std::map<std::string, LoraPair> loaded;
  std::set<std::string> used;
  for (const auto& [path, short_name] : lora_sites()) {
    if (!modules.count(module_name(path))) continue;
    if (std::find(lc.targets.begin(), lc.targets.end(), short_name) == lc.targets.end()) lc.targets.push_back(short_name);
    const std::string ka = "base_model.model." + path + ".lora_A.weight";
    const std::string kb = "base_model.model." + path + ".lora_B.weight";
    if (!st.contains(ka) || !st.contains(kb)) throw Error(msg(st.path(), ": missing ", ka, " or its lora_B"));
    const auto& W = w(path + ".weight");
    LoraPair p;
    const auto master = options_.dtype == at::kDouble ? at::kDouble : at::kFloat;
    p.A = st.load(ka, options_.device, master);
    p.B = st.load(kb, options_.device, master);
    if (p.A.sizes() != at::IntArrayRef({lc.rank, W.size(1)}) || p.B.sizes() != at::IntArrayRef({W.size(0), lc.rank}))
      throw Error(msg(st.path(), ": ", path, " adapter shapes ", p.A.sizes(), " / ", p.B.sizes(), " do not fit weight ", W.sizes(), " at rank ", lc.rank));
    p.A.set_requires_grad(true);
    p.B.set_requires_grad(true);
    loaded[path] = p;
    used.insert(ka);
    used.insert(kb);
  }
  for (const auto& name : st.names())
    if (!used.count(name)) throw Error(msg(st.path(), ": tensor '", name, "' matches no projection of this model"));
  if (loaded.empty()) throw Error(msg(cfg_path, ": target_modules match no projection of this model"));
  lora_cfg_ = lc;
  lora_ = std::move(loaded);
}

}  // namespace jenga::core
