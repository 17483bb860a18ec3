// The paper fixture written, ingested and loaded once per test program (it takes a second).
// JENGA_PLOT_TEST_KEEP=1 keeps the temporary tree (its path is printed) for looking at figures.
#pragma once

#include "tests/harness/plot/paper_fixture.hpp"

#include "harness/ingest/ingest.hpp"
#include "harness/plot/gnuplot.hpp"
#include "harness/spec/experiment.hpp"
#include "harness/store/store.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>

namespace jenga::harness::test {

inline std::string make_temp_dir(const std::string& tag) {
  std::string templ = (std::filesystem::temp_directory_path() / ("jenga-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

// Whether gnuplot can render here. Without it the data/script assertions still run and the image
// checks skip, except where JENGA_REQUIRE_GNUPLOT is set (scripts/test.sh sets it): there a missing
// gnuplot is a failure, so CI cannot pass by skipping.
inline bool gnuplot_available() {
  const bool present = !jenga::harness::find_on_path("gnuplot").empty();
  if (!present && std::getenv("JENGA_REQUIRE_GNUPLOT") != nullptr)
    ADD_FAILURE() << "gnuplot not on PATH but JENGA_REQUIRE_GNUPLOT is set (Debian: apt-get install gnuplot-nox)";
  return present;
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct FixtureWorld {
  std::string root;
  std::vector<std::string> scratch;  // output folders of single tests, removed with the tree
  std::unique_ptr<Store> store;
  std::vector<Experiment> experiments;

  const Experiment& experiment(const std::string& name) const {
    for (const Experiment& e : experiments)
      if (e.name == name) return e;
    throw std::runtime_error("no experiment " + name);
  }
};

// One world per process; `extras` false so the experiments load with any spec parser version
// (tests add the newer keys to the structs themselves).
inline FixtureWorld& fixture_world() {
  static FixtureWorld* w = [] {
    auto* world = new FixtureWorld;
    world->root = make_temp_dir("plot-fixture");
    write_paper_fixture(world->root, false);
    world->store = std::make_unique<Store>(world->root + "/results.sqlite");
    const IngestStats s = ingest_tree(*world->store, world->root + "/logs", world->root);
    if (s.files_failed != 0) throw std::runtime_error("fixture logs failed to ingest");
    world->experiments = load_all_experiments(world->root);
    const char* keep = std::getenv("JENGA_PLOT_TEST_KEEP");
    if (keep != nullptr && *keep != '\0')
      std::cerr << "fixture tree kept at " << world->root << "\n";
    else
      std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(fixture_world().root, ec);
        for (const std::string& d : fixture_world().scratch) std::filesystem::remove_all(d, ec);
      });
    return world;
  }();
  return *w;
}

// A temporary folder removed at exit (unless JENGA_PLOT_TEST_KEEP is set).
inline std::string scratch_dir(const std::string& tag) {
  FixtureWorld& w = fixture_world();
  w.scratch.push_back(make_temp_dir(tag));
  return w.scratch.back();
}

}  // namespace jenga::harness::test
