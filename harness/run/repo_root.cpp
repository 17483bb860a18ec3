#include "harness/run/repo_root.hpp"

#include <filesystem>

namespace jenga::harness {

namespace fs = std::filesystem;

std::string build_source_dir() {
#ifdef JENGA_SOURCE_DIR
  return JENGA_SOURCE_DIR;
#else
  return {};
#endif
}

std::string find_repo_root(const std::string& start) {
  std::error_code ec;
  fs::path p = fs::absolute(start.empty() ? fs::path(".") : fs::path(start), ec);
  if (!ec) {
    p = p.lexically_normal();
    for (;;) {
      if (fs::is_directory(p / "experiments", ec) && fs::is_directory(p / "configs", ec)) return p.string();
      if (!p.has_parent_path() || p.parent_path() == p) break;
      p = p.parent_path();
    }
  }
  return build_source_dir();
}

}  // namespace jenga::harness
