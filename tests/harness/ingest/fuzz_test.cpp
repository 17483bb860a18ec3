// Random and mutated log lines (fixed seed): parse_log and ingest_tree may report problems or
// throw jenga::harness::Error, nothing else, and never crash; ingest stays idempotent.
#include "harness/common/error.hpp"
#include "harness/ingest/ingest.hpp"
#include "tests/harness/ingest/log_writer.hpp"
#include "tests/harness/store/db_dump.hpp"
#include "tests/harness/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

using namespace jenga::harness;
using jenga::harness::test::dump_store;
using jenga::harness::test::TempDir;
namespace proto = jenga::protocol;

namespace {

std::vector<std::string> valid_records() {
  return {
      proto::make_run("exp", "h100", "k1", "t", {{"a", 1}}, Json::array({"w"}), 1, "2026").dump(),
      proto::make_start("t", {{"a", 1}}, {{"gpu", "H100"}, {"torch", "2.11"}}).dump(),
      proto::make_step(3, {{"forward", 1.5}}, {{"peak_allocated", 100.0}}, {{"loss", 2.5}}).dump(),
      proto::make_metric("ppl", 12.5, "", {{"length", 4096}}).dump(),
      R"({"event":"metric","name":"acc","value":null})",
      proto::make_summary({{"peak_mib", 1.0}, {"step_ms", 2}}).dump(),
      proto::make_end(proto::Status::Oom, "CUDA out of memory").dump(),
      proto::make_exit(proto::Status::Crashed, nullptr, 9, 1.5, "t").dump(),
      proto::make_exit(proto::Status::Ok, 0, nullptr, 1.5, "t", "fine").dump(),
  };
}

std::string mutate(std::string line, std::mt19937& rng) {
  static const std::string alphabet = "{}[]\":,.-+eE0123456789 \\untrfalsx\x00\x01\x80\xbf\xc3\xed\xf4\xff";
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !line.empty(); ++e) {
    const std::size_t pos = rng() % line.size();
    const char c = alphabet[rng() % alphabet.size()];
    switch (rng() % 6) {
      case 0: line[pos] = c; break;
      case 1: line.insert(line.begin() + static_cast<long>(pos), c); break;
      case 2: line.erase(pos, 1 + rng() % 8); break;
      case 3: line.resize(pos); break;
      case 4: line.insert(pos, line.substr(rng() % line.size(), rng() % 16)); break;
      case 5: line.insert(pos, std::string(rng() % 40, "[{\""[rng() % 3])); break;
    }
  }
  return line;
}

std::string random_line(std::mt19937& rng, const std::vector<std::string>& valid) {
  switch (rng() % 5) {
    case 0: return valid[rng() % valid.size()];
    case 1:
    case 2: return mutate(valid[rng() % valid.size()], rng);
    case 3: {
      std::string s(rng() % 200, '\0');
      for (char& c : s) c = static_cast<char>(rng() % 256);
      if (rng() % 2 && !s.empty()) s[0] = '{';
      for (char& c : s)
        if (c == '\n') c = ' ';
      return s;
    }
    default: return "free text line " + std::to_string(rng());
  }
}

}  // namespace

TEST(Fuzz, RandomLogsNeverThrowAnythingButError) {
  TempDir root;
  const std::string logs = root.file("logs");
  std::filesystem::create_directories(logs);
  std::mt19937 rng(424242);
  const auto valid = valid_records();
  int parsed = 0, errors = 0, lines = 0;
  for (int f = 0; f < 30; ++f) {
    std::string text;
    // Most files open with a real run record so the lines after it are exercised.
    if (f % 5) text += proto::make_run("exp", "h100", "fz" + std::to_string(f), "t", Json::object(), Json::array(), 1, "s").dump() + "\n";
    for (int i = 0; i < 120; ++i, ++lines) {
      std::string l = random_line(rng, valid);
      for (char& c : l)
        if (c == '\n') c = ' ';
      text += l + (rng() % 10 ? "\n" : "\r\n");
    }
    if (rng() % 2) text.pop_back();  // no final newline
    const std::string path = logs + "/f" + std::to_string(f) + ".jsonl";
    {
      std::ofstream o(path, std::ios::binary);
      o << text;
    }
    try {
      const ParsedLog p = parse_log(path, root.str());
      ++parsed;
      EXPECT_FALSE(p.records.run.key.empty());
      EXPECT_FALSE(p.records.run.status.empty());
      for (const auto& s : p.records.steps) EXPECT_FALSE(Json::parse(s.json, nullptr, false).is_discarded()) << s.json;
    } catch (const Error&) {
      ++errors;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "file " << f << ": unexpected exception: " << e.what();
    }
  }
  EXPECT_GE(lines, 3000);
  EXPECT_GT(parsed, 20);

  Store store(root.file("fuzz.sqlite"));
  try {
    const IngestStats s = ingest_tree(store, logs, root.str());
    EXPECT_EQ(s.files_seen, 30);
    EXPECT_FALSE(s.problems.empty());
    const std::string once = dump_store(store);
    ingest_tree(store, logs, root.str(), /*force=*/true);
    EXPECT_EQ(dump_store(store), once);
    // Every stored step reads back (the fast path's text is valid JSON).
    for (const auto& r : store.runs()) store.steps(r.key);
  } catch (const Error& e) {
    ADD_FAILURE() << "ingest_tree threw: " << e.what();
  }
}
