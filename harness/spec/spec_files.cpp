#include "harness/spec/spec_files.hpp"

#include "harness/common/error.hpp"
#include "harness/spec/yaml_reader.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace jenga::harness {

bool is_spec_name(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(s[0])) return false;
  if (s.find("..") != std::string::npos) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

std::string file_stem(const std::string& path) { return fs::path(path).stem().string(); }

std::vector<std::string> yaml_stems(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() == ".yaml" && it->is_regular_file(ec)) out.push_back(p.stem().string());
  }
  if (ec) throw Error("cannot list directory: " + ec.message(), Where{dir});
  std::sort(out.begin(), out.end());
  return out;
}

std::string find_spec_file(const std::string& root, const std::string& subdir, const std::string& name,
                           const std::string& kind) {
  const fs::path dir = fs::path(root) / subdir;
  const std::vector<std::string> available = yaml_stems(dir.string());
  const bool known = is_spec_name(name) && std::find(available.begin(), available.end(), name) != available.end();
  if (!known) {
    throw Error("unknown " + kind + " '" + name + "'; available in " + dir.string() + ": " +
                (available.empty() ? std::string("(none)") : yaml::join(available)));
  }
  return (dir / (name + ".yaml")).string();
}

}  // namespace jenga::harness
