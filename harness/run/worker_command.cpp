#include "harness/run/worker_command.hpp"

#include "harness/common/error.hpp"
#include "harness/spec/model_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace jenga::harness {

namespace fs = std::filesystem;

namespace {

std::string absolute_under(const std::string& root, const std::string& p) {
  if (p.empty()) return {};
  fs::path path(p);
  if (path.is_relative()) path = fs::path(root) / path;
  return fs::absolute(path).lexically_normal().string();
}

}  // namespace

Json model_spec_json(const std::string& repo_root, const std::string& model) {
  const ModelConfig m = find_model_config(repo_root, model);
  return Json{{"name", m.name},
              {"family", m.family},
              {"hf_config", absolute_under(repo_root, m.hf_config)},
              {"checkpoint", absolute_under(repo_root, m.checkpoint)},
              {"source", m.source}};
}

std::vector<std::string> worker_args(const PlannedRun& run, const SchedulerOptions& opt, const Json* model_spec) {
  std::vector<std::string> args = opt.worker_prefix_args;
  args.push_back(run.task);
  args.insert(args.end(), {"--run-key", run.key, "--params", run.params.dump()});
  if (model_spec) args.insert(args.end(), {"--model-spec", model_spec->dump()});
  return args;
}

int slot_count(const Profile& profile) { return std::max(1, profile.gpus * profile.slots_per_gpu); }

std::string visible_devices(const Profile& profile, int slot) {
  if (profile.gpus <= 0) return "";
  return std::to_string(slot / std::max(1, profile.slots_per_gpu));
}

int gpus_needed(const PlannedRun& run) {
  const auto it = run.params.find("gpus");
  if (it == run.params.end()) return 1;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 1024)
    throw Error("run " + run.key + ": params.gpus must be a positive integer, got " + it->dump());
  return static_cast<int>(it->get<std::int64_t>());
}

std::map<std::string, std::string> worker_env(std::map<std::string, std::string> env, const PlannedRun& run,
                                              const Profile& profile, int slot, const SchedulerOptions& opt) {
  const int n = gpus_needed(run);
  if (n > 1 && profile.gpus > 0) {
    std::string all;
    for (int g = 0; g < n; ++g) all += (g ? "," : "") + std::to_string(g);
    env["CUDA_VISIBLE_DEVICES"] = all;
  } else {
    env["CUDA_VISIBLE_DEVICES"] = visible_devices(profile, slot);
  }
  // A cap inherited from the harness's own environment would silently change the run.
  if (profile.memory_cap_gib)
    env["JENGA_MEMORY_CAP_GIB"] = fmt::format("{}", *profile.memory_cap_gib);
  else
    env.erase("JENGA_MEMORY_CAP_GIB");
  env["JENGA_RUN_KEY"] = run.key;
  env["JENGA_PROFILE"] = run.profile.empty() ? profile.name : run.profile;
  for (const auto& [k, v] : opt.extra_env) env[k] = v;
  return env;
}

}  // namespace jenga::harness
