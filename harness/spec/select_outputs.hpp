// Picking an experiment's figures or tables by name: a figure/table id, an experiment name, or a
// paper id (the output's own, else its experiment's). One rule for `jenga plot` and `jenga table`.
#pragma once

#include "harness/common/error.hpp"
#include "harness/spec/experiment.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace jenga::harness {

// Comma-separated ids of every output `Member` (&Experiment::figures or ::tables) declares.
template <typename Spec>
std::string declared_ids(const std::vector<Experiment>& experiments, std::vector<Spec> Experiment::*member) {
  std::string known;
  for (const Experiment& e : experiments)
    for (const Spec& s : e.*member) known += (known.empty() ? "" : ", ") + s.id;
  return known.empty() ? "(none declared)" : known;
}

// Every output matching any of `names` (all when empty), in declaration order; a name matching
// nothing is an Error naming `kind` ("figure" / "table") and the ids declared.
template <typename Spec>
std::vector<std::pair<const Experiment*, const Spec*>> select_outputs(const std::vector<Experiment>& experiments,
                                                                      const std::vector<std::string>& names,
                                                                      std::vector<Spec> Experiment::*member,
                                                                      const std::string& kind) {
  std::vector<std::pair<const Experiment*, const Spec*>> out;
  std::vector<bool> used(names.size(), false);
  for (const Experiment& e : experiments) {
    for (const Spec& s : e.*member) {
      bool take = names.empty();
      for (std::size_t i = 0; i < names.size(); ++i) {
        const bool hit = names[i] == s.id || names[i] == e.name || (!s.paper.empty() && names[i] == s.paper) ||
                         (s.paper.empty() && std::find(e.paper.begin(), e.paper.end(), names[i]) != e.paper.end());
        if (hit) take = used[i] = true;
      }
      if (take) out.emplace_back(&e, &s);
    }
  }
  for (std::size_t i = 0; i < names.size(); ++i)
    if (!used[i])
      throw Error(kind + ": no " + kind + ", experiment or paper id '" + names[i] + "' declares a " + kind + "; " + kind +
                  "s: " + declared_ids(experiments, member));
  return out;
}

}  // namespace jenga::harness
