#include "model_source.hpp"

#include "jenga/core/error.hpp"

namespace jenga::worker {

ModelSource resolve_model(const TaskContext& ctx) {
  ModelSource m;
  m.hf_config = ctx.params.value("hf_config", ctx.model_spec.value("hf_config", std::string()));
  if (m.hf_config.empty())
    throw core::Error("no model: pass --model-spec (the harness does) or params.hf_config (path of a HF config.json)");
  m.config = core::ModelConfig::from_file(m.hf_config);
  const std::string weights = ctx.params.value("weights", std::string("random"));
  if (weights == "checkpoint") {
    m.checkpoint = ctx.params.value("checkpoint", ctx.model_spec.value("checkpoint", std::string()));
    if (m.checkpoint.empty()) throw core::Error("weights=checkpoint but the model entry names no checkpoint directory");
  } else if (weights != "random") {
    throw core::Error(core::msg("params.weights: expected random or checkpoint, got '", weights, "'"));
  }
  return m;
}

}  // namespace jenga::worker
