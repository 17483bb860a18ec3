#include "jenga/core/runtime/provenance.hpp"

#include "jenga/core/compat.hpp"

#include <torch/cuda.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <regex>
#include <unistd.h>

#ifdef JENGA_TORCH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace jenga::core {
namespace {

// First line a command prints, or "" (provenance must never fail a run).
std::string first_line_of(const std::string& command) {
  std::array<char, 512> buf{};
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    if (std::fgets(buf.data(), buf.size(), p) != nullptr) out = buf.data();
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string git_commit() {
  if (const char* c = std::getenv("JENGA_GIT_COMMIT"); c != nullptr && *c != '\0') return c;
  const std::string dir = JENGA_SOURCE_DIR;
  std::string commit = first_line_of("git -C '" + dir + "' rev-parse --verify -q HEAD 2>/dev/null");
  if (commit.empty()) return "unknown";
  if (!first_line_of("git -C '" + dir + "' status --porcelain --untracked-files=no 2>/dev/null").empty()) commit += "-dirty";
  return commit;
}

[[maybe_unused]] std::string nvidia_driver() {
  // "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build ..."
  std::ifstream f("/proc/driver/nvidia/version");
  std::string line;
  if (!std::getline(f, line)) return "unknown";
  static const std::regex version_re("[0-9]+\\.[0-9]+(\\.[0-9]+)?");
  std::smatch m;
  const auto module = line.find("Module");
  const std::string rest = module == std::string::npos ? line : line.substr(module);
  return std::regex_search(rest, m, version_re) ? m.str() : "unknown";
}

}  // namespace

std::string utc_now_iso() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

nlohmann::json collect_provenance(const std::string& device) {
  nlohmann::json p;
  p["commit"] = git_commit();
  p["torch"] = compat::torch_version();
  char host[256] = {0};
  // A capped run (a smaller card emulated on a larger one) says so in its provenance.
  if (const char* cap = std::getenv("JENGA_MEMORY_CAP_GIB"); cap != nullptr && *cap != '\0') {
    try {
      p["memory_cap_gib"] = std::stod(cap);
    } catch (const std::exception&) {
      p["memory_cap_gib"] = std::string(cap);
    }
  }
  p["host"] = ::gethostname(host, sizeof host - 1) == 0 ? std::string(host) : std::string("unknown");
  p["time"] = utc_now_iso();
  p["device"] = device;
  p["cuda_available"] = torch::cuda::is_available();
  p["gpu"] = "none";
  p["gpu_memory_mib"] = nullptr;
  p["cuda_runtime"] = "none";
  p["driver"] = "none";
#ifdef JENGA_TORCH_CUDA
  if (torch::cuda::is_available()) {
    int dev = 0;
    if (device.rfind("cuda:", 0) == 0) dev = std::atoi(device.c_str() + 5);
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, dev) == cudaSuccess) {
      p["gpu"] = std::string(prop.name);
      p["gpu_memory_mib"] = static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0);
      p["gpu_sm"] = std::to_string(prop.major) + "." + std::to_string(prop.minor);
      p["gpu_count"] = static_cast<int>(torch::cuda::device_count());
    } else {
      p["gpu"] = "unknown";
    }
    int rt = 0;
    if (cudaRuntimeGetVersion(&rt) == cudaSuccess) p["cuda_runtime"] = std::to_string(rt / 1000) + "." + std::to_string((rt % 1000) / 10);
    p["driver"] = nvidia_driver();
  }
#endif
  return p;
}

}  // namespace jenga::core
