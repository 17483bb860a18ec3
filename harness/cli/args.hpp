// A small command-line parser for `jenga` (no Boost.Program_options): "--name VALUE",
// "--name=VALUE", flags, repeatable options, positionals, "--" ending options.
// Mistakes throw Error naming the option and the command.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace jenga::cli {

struct OptionSpec {
  std::string name;          // without the leading "--"
  bool takes_value = false;
  bool repeatable = false;
  std::string metavar;       // e.g. "PATH", for help
  std::string help;
};

class ParsedArgs {
 public:
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  // The (last) value of an option, or `fallback` when absent.
  std::string get(const std::string& name, const std::string& fallback = {}) const;
  std::vector<std::string> all(const std::string& name) const;
  // Numeric values; Error when the text is not a number (or not >= min).
  double get_double(const std::string& name, double fallback, double min) const;
  int get_int(const std::string& name, int fallback, int min) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  friend ParsedArgs parse_args(const std::vector<std::string>&, const std::vector<OptionSpec>&, const std::string&);
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
  std::string command_;
};

// `command` names the subcommand in messages: "run" gives "run: unknown option '--x' (see
// jenga run --help)"; a leading "jenga " is dropped (main prefixes every error with "jenga: ").
ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs,
                      const std::string& command);

// Aligned "  --name METAVAR   help" lines.
std::string options_help(const std::vector<OptionSpec>& specs);

}  // namespace jenga::cli
