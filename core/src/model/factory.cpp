#include "model/architectures.hpp"

#include "jenga/core/error.hpp"

namespace jenga::core {

std::unique_ptr<CausalLM> make_causal_lm(const ModelConfig& config, const ModelOptions& options,
                                         const std::string& checkpoint_dir, uint64_t seed) {
  switch (config.family) {
    case Family::Llama: return make_llama(config, options, checkpoint_dir, seed);
    case Family::Opt: return make_opt(config, options, checkpoint_dir, seed);
  }
  throw Error("make_causal_lm: unknown model family");
}

}  // namespace jenga::core
