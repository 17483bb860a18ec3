// A model entry (configs/models/<name>.yaml): which HF config.json describes it and where its
// weights come from. Workers get the resolved paths; the run key hashes only the model name.
#pragma once

#include <optional>
#include <string>

namespace jenga::harness {

struct ModelConfig {
  std::string name;         // file stem, e.g. "llama2-7b"
  std::string file;
  std::string family;       // "llama" | "opt"
  std::string hf_config;    // path (relative to repo root) of the HF config.json
  std::string checkpoint;   // directory with safetensors, relative to repo root ("" = random init only)
  std::string source;       // where a user gets the weights (hub id or URL), for hello_world/check
  std::string description;
};

ModelConfig load_model_config(const std::string& path);
ModelConfig find_model_config(const std::string& root, const std::string& name);

}  // namespace jenga::harness
