#include "harness/cli/args.hpp"

#include "harness/common/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace jenga::cli {

using harness::Error;

std::string ParsedArgs::get(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

double ParsedArgs::get_double(const std::string& name, double fallback, double min) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v < min)
    throw Error(fmt::format("{}: --{} expects a number >= {}, got '{}'", command_, name, min, text));
  return v;
}

int ParsedArgs::get_int(const std::string& name, int fallback, int min) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < min || v > 1000000)
    throw Error(fmt::format("{}: --{} expects an integer >= {}, got '{}'", command_, name, min, text));
  return static_cast<int>(v);
}

ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs,
                      const std::string& command_name) {
  // Messages read "jenga: run: ..." (main adds "jenga: "); "jenga run" is accepted too.
  const std::string command = command_name.rfind("jenga ", 0) == 0 ? command_name.substr(6) : command_name;
  const std::string who = command.empty() ? "" : command + ": ";
  const std::string help = command.empty() ? "jenga --help" : "jenga " + command + " --help";
  ParsedArgs out;
  out.command_ = command;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 2 || a.compare(0, 2, "--") != 0) {
      if (!options_done && a.size() > 1 && a[0] == '-' && a != "-")
        throw Error(fmt::format("{}unknown option '{}' (options are spelled --name; see {})", who, a, help));
      out.positionals_.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const auto spec = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == name; });
    if (spec == specs.end())
      throw Error(fmt::format("{}unknown option '--{}' (see {})", who, name, help));
    if (spec->takes_value) {
      if (!inline_value) {
        if (i + 1 >= args.size()) throw Error(fmt::format("{}--{} needs a value ({})", who, name, spec->metavar));
        value = args[++i];
      }
    } else if (inline_value) {
      throw Error(fmt::format("{}--{} takes no value", who, name));
    }
    auto& slot = out.values_[name];
    if (!slot.empty() && !spec->repeatable)
      throw Error(fmt::format("{}--{} given more than once", who, name));
    slot.push_back(value);
  }
  return out;
}

std::string options_help(const std::vector<OptionSpec>& specs) {
  std::vector<std::string> heads;
  std::size_t width = 0;
  for (const auto& s : specs) {
    heads.push_back("--" + s.name + (s.takes_value ? " " + s.metavar : ""));
    width = std::max(width, heads.back().size());
  }
  std::string out;
  for (std::size_t i = 0; i < specs.size(); ++i)
    out += fmt::format("  {:<{}}  {}\n", heads[i], width, specs[i].help);
  return out;
}

}  // namespace jenga::cli
