#include "harness/spec/profile.hpp"

#include "harness/common/error.hpp"
#include "harness/spec/spec_files.hpp"
#include "harness/spec/yaml_reader.hpp"

#include <regex>

namespace jenga::harness {
namespace {

std::map<std::string, std::vector<Json>> read_sizes(const yaml::Node& node) {
  std::map<std::string, std::vector<Json>> sizes;
  if (!node.is_map()) node.expected("a map of size name -> list of values");
  for (const auto& [name, value] : node.entries()) {
    if (!is_spec_name(name)) value.fail("size name '" + name + "' is not a valid name ([A-Za-z0-9][A-Za-z0-9._-]*)");
    // A single value is shorthand for a one-element list.
    std::vector<Json> values;
    if (value.is_scalar() && !value.is_null()) values.push_back(value.scalar_json());
    else values = value.as_scalar_list();
    if (values.empty()) value.expected("a non-empty list of values");
    sizes[name] = std::move(values);
  }
  return sizes;
}

Profile read_profile(const std::string& path) {
  const yaml::Node root = yaml::load_file(path);
  const yaml::MapReader m(root, "profile",
                          {"name", "description", "gpu_pattern", "memory_gib", "memory_cap_gib", "gpus",
                           "slots_per_gpu", "timeout_s", "sizes"});
  Profile p;
  p.file = path;
  p.name = file_stem(path);
  if (auto n = m.get("name")) {
    const std::string declared = n->as_string();
    if (declared != p.name) n->fail("profile name '" + declared + "' must equal the file stem '" + p.name + "'");
  }
  if (!is_spec_name(p.name)) root.fail("profile file stem '" + p.name + "' is not a valid name");
  if (auto d = m.get("description")) p.description = d->as_string();

  const yaml::Node pattern = m.require("gpu_pattern");
  // An empty pattern (cpu) is a null scalar when written `gpu_pattern:`; accept "" only when quoted.
  p.gpu_pattern = pattern.as_string();
  try {
    std::regex re(p.gpu_pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    pattern.fail("gpu_pattern: invalid regular expression \"" + p.gpu_pattern + "\": " + e.what());
  }

  const yaml::Node mem = m.require("memory_gib");
  p.memory_gib = mem.as_number();
  if (p.memory_gib < 0) mem.expected("a number >= 0");
  if (auto cap = m.get("memory_cap_gib")) {
    p.memory_cap_gib = cap->as_number();
    if (*p.memory_cap_gib <= 0) cap->expected("a number > 0");
    if (p.memory_gib > 0 && *p.memory_cap_gib > p.memory_gib)
      cap->fail("memory_cap_gib " + cap->raw().Scalar() + " exceeds memory_gib " + mem.raw().Scalar());
  }

  const yaml::Node gpus = m.require("gpus");
  const std::int64_t g = gpus.as_int();
  if (g < 0 || g > 64) gpus.expected("an integer in 0..64");
  p.gpus = static_cast<int>(g);
  if (auto s = m.get("slots_per_gpu")) {
    const std::int64_t v = s->as_int();
    if (v < 1 || v > 64) s->expected("an integer in 1..64");
    p.slots_per_gpu = static_cast<int>(v);
  }
  const yaml::Node timeout = m.require("timeout_s");
  p.timeout_s = timeout.as_number();
  if (!(p.timeout_s > 0)) timeout.expected("a number of seconds > 0");
  if (auto s = m.get("sizes")) p.sizes = read_sizes(*s);
  return p;
}

}  // namespace

Profile load_profile(const std::string& path) {
  return yaml::guarded(path, [&] { return read_profile(path); });
}

Profile find_profile(const std::string& root, const std::string& name) {
  return load_profile(find_spec_file(root, "configs/profiles", name, "profile"));
}

}  // namespace jenga::harness
