#include "harness/spec/model_config.hpp"

#include "harness/common/error.hpp"
#include "harness/spec/spec_files.hpp"
#include "harness/spec/yaml_reader.hpp"

#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace jenga::harness {
namespace {

// A model file lives at <root>/configs/models/<name>.yaml; its paths are relative to <root>.
std::optional<fs::path> repo_root_of(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path();
  if (dir.filename() != "models" || dir.parent_path().filename() != "configs") return std::nullopt;
  return dir.parent_path().parent_path();
}

ModelConfig read_model_config(const std::string& path) {
  const yaml::Node root = yaml::load_file(path);
  const yaml::MapReader m(root, "model config", {"family", "hf_config", "checkpoint", "source", "description"});
  ModelConfig c;
  c.file = path;
  c.name = file_stem(path);
  if (!is_spec_name(c.name)) root.fail("model file stem '" + c.name + "' is not a valid name");

  const yaml::Node family = m.require("family");
  c.family = family.as_string();
  if (c.family != "llama" && c.family != "opt") family.expected("\"llama\" or \"opt\"");

  const yaml::Node hf = m.require("hf_config");
  c.hf_config = hf.as_string();
  if (c.hf_config.empty()) hf.expected("a path to an HF config.json");
  if (fs::path(c.hf_config).is_absolute()) hf.fail("hf_config must be relative to the repository root");
  if (auto repo = repo_root_of(path)) {
    std::error_code ec;
    if (!fs::is_regular_file(*repo / c.hf_config, ec))
      hf.fail("hf_config file not found: " + (*repo / c.hf_config).string());
  }

  if (auto ck = m.get("checkpoint")) {
    // `checkpoint: ""` (random init) must be quoted; a bare `checkpoint:` is a forgotten value.
    c.checkpoint = ck->as_string();
    if (fs::path(c.checkpoint).is_absolute()) ck->fail("checkpoint must be relative to the repository root");
  }
  if (auto s = m.get("source")) c.source = s->as_string();
  if (auto d = m.get("description")) c.description = d->as_string();
  return c;
}

}  // namespace

ModelConfig load_model_config(const std::string& path) {
  return yaml::guarded(path, [&] { return read_model_config(path); });
}

ModelConfig find_model_config(const std::string& root, const std::string& name) {
  return load_model_config(find_spec_file(root, "configs/models", name, "model"));
}

}  // namespace jenga::harness
