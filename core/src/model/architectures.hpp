// Constructors of the concrete architectures behind make_causal_lm().
#pragma once

#include "jenga/core/model/causal_lm.hpp"

namespace jenga::core {

std::unique_ptr<CausalLM> make_llama(const ModelConfig& cfg, const ModelOptions& opt, const std::string& ckpt, uint64_t seed);
std::unique_ptr<CausalLM> make_opt(const ModelConfig& cfg, const ModelOptions& opt, const std::string& ckpt, uint64_t seed);

}  // namespace jenga::core
