// Where spec files live and how they are named: a spec's name is its file stem, and the files
// of one kind sit in one folder (experiments/, configs/profiles/, configs/models/).
#pragma once

#include <string>
#include <vector>

namespace jenga::harness {

// A spec name: [A-Za-z0-9][A-Za-z0-9._-]* (safe as a file stem and in paths; no "..").
bool is_spec_name(const std::string& s);

std::string file_stem(const std::string& path);

// Sorted stems of dir/*.yaml; empty when dir does not exist.
std::vector<std::string> yaml_stems(const std::string& dir);

// root/<subdir>/<name>.yaml; Error naming the available `kind`s when it does not exist.
std::string find_spec_file(const std::string& root, const std::string& subdir, const std::string& name,
                           const std::string& kind);

}  // namespace jenga::harness
