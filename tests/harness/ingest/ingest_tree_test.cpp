#include "harness/common/error.hpp"
#include "harness/ingest/ingest.hpp"
#include "tests/harness/ingest/log_writer.hpp"
#include "tests/harness/store/db_dump.hpp"
#include "tests/harness/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace jenga::harness;
using jenga::harness::test::count_rows;
using jenga::harness::test::dump_store;
using jenga::harness::test::LogWriter;
using jenga::harness::test::TempDir;
using jenga::protocol::Status;
namespace fs = std::filesystem;

namespace {

// A repo root with logs/ holding three good runs, one file without a run record and one
// file that is not a log.
struct Tree {
  TempDir root;
  std::string logs = root.file("logs");

  Tree() {
    write("exp/a.jsonl", LogWriter().run("ka").start().step(0).step(1).end(Status::Ok).exit(Status::Ok));
    write("exp/b.jsonl", LogWriter().run("kb").start().step(0).end(Status::Oom, "CUDA out of memory").exit(Status::Oom, 1));
    write("other/sub/c.jsonl", LogWriter().run("kc", 1, "other").start().step(0).line("{broken"));
    write("exp/broken.jsonl", LogWriter().line("no run record here").start());
    std::ofstream(root.file("logs/exp/notes.txt")) << "not a log\n";
  }
  void write(const std::string& rel, const LogWriter& w) const {
    const fs::path p = fs::path(logs) / rel;
    fs::create_directories(p.parent_path());
    w.write(p.string());
  }
};

std::string stats_text(const IngestStats& s) {
  std::string t = "seen " + std::to_string(s.files_seen) + " ingested " + std::to_string(s.files_ingested) + " skipped " +
                  std::to_string(s.files_skipped) + " failed " + std::to_string(s.files_failed) + "\n";
  for (const auto& p : s.problems) t += p.file + ":" + std::to_string(p.line) + ": " + p.what + "\n";
  return t;
}

}  // namespace

TEST(IngestTree, IngestsSkipsAndIsIdempotent) {
  Tree t;
  Store store(t.root.file("results.sqlite"));
  const IngestStats first = ingest_tree(store, t.logs, t.root.str());
  EXPECT_EQ(first.files_seen, 4) << stats_text(first);
  EXPECT_EQ(first.files_ingested, 3) << stats_text(first);
  EXPECT_EQ(first.files_failed, 1) << stats_text(first);
  EXPECT_EQ(first.files_skipped, 0);
  ASSERT_EQ(first.problems.size(), 2u) << stats_text(first);  // c's broken line, the file without run
  EXPECT_EQ(count_rows(store, "runs"), 3);
  EXPECT_EQ(store.run("kb")->status, "oom");
  EXPECT_EQ(store.run("kc")->status, "crashed");
  EXPECT_EQ(store.run("ka")->log_path, "logs/exp/a.jsonl");
  EXPECT_EQ(store.steps("ka").size(), 2u);
  const std::string once = dump_store(store);

  const IngestStats second = ingest_tree(store, t.logs, t.root.str());
  EXPECT_EQ(second.files_skipped, 3) << stats_text(second);
  EXPECT_EQ(second.files_ingested, 0) << stats_text(second);
  EXPECT_EQ(second.files_failed, 1) << stats_text(second);
  EXPECT_EQ(dump_store(store), once);

  const IngestStats forced = ingest_tree(store, t.logs, t.root.str(), /*force=*/true);
  EXPECT_EQ(forced.files_ingested, 3) << stats_text(forced);
  EXPECT_EQ(dump_store(store), once);

  // A fresh index built from the same logs is the same index.
  Store fresh(t.root.file("fresh.sqlite"));
  ingest_tree(fresh, t.logs, t.root.str());
  EXPECT_EQ(dump_store(fresh), once);
}

TEST(IngestTree, ChangedFileIsReingested) {
  Tree t;
  Store store(t.root.file("results.sqlite"));
  ingest_tree(store, t.logs, t.root.str());
  const std::string before_b = dump_store(store);
  // A retry appended to a.jsonl.
  {
    std::ofstream f(t.logs + "/exp/a.jsonl", std::ios::app);
    f << LogWriter().run("ka", 2).start().step(0).step(1).step(2).end(Status::Ok).exit(Status::Ok).text();
  }
  const IngestStats s = ingest_tree(store, t.logs, t.root.str());
  EXPECT_EQ(s.files_ingested, 1) << stats_text(s);
  EXPECT_EQ(s.files_skipped, 2) << stats_text(s);
  EXPECT_EQ(store.run("ka")->attempts, 2);
  EXPECT_EQ(store.steps("ka").size(), 3u);
  EXPECT_EQ(store.run("ka")->log_size, static_cast<std::int64_t>(fs::file_size(t.logs + "/exp/a.jsonl")));

  // Same size, new mtime: parsed again, same rows but the stamp.
  const std::string p = t.logs + "/exp/b.jsonl";
  fs::last_write_time(p, fs::last_write_time(p) - std::chrono::hours(24));
  const IngestStats touched = ingest_tree(store, t.logs, t.root.str());
  EXPECT_EQ(touched.files_ingested, 1) << stats_text(touched);
  EXPECT_EQ(store.steps("kb").size(), 1u);

  // The file now names another run: the old key goes.
  t.write("exp/b.jsonl", LogWriter().run("kb2").start().end(Status::Ok).exit(Status::Ok));
  ingest_tree(store, t.logs, t.root.str());
  EXPECT_FALSE(store.run("kb"));
  EXPECT_EQ(store.run("kb2")->log_path, "logs/exp/b.jsonl");
  EXPECT_EQ(count_rows(store, "runs"), 3);
}

TEST(IngestTree, DeletedFileIsRemoved) {
  Tree t;
  Store store(t.root.file("results.sqlite"));
  ingest_tree(store, t.logs, t.root.str());
  // A run indexed from outside logs/ is none of ingest_tree's business.
  TempDir elsewhere;
  LogWriter().run("kx").end(Status::Ok).write(elsewhere.file("x.jsonl"));
  ingest_file(store, elsewhere.file("x.jsonl"), t.root.str());
  ASSERT_TRUE(store.run("kx"));

  fs::remove(t.logs + "/exp/b.jsonl");
  fs::remove_all(t.logs + "/other");
  const IngestStats s = ingest_tree(store, t.logs, t.root.str());
  EXPECT_EQ(s.files_seen, 2) << stats_text(s);
  EXPECT_FALSE(store.run("kb"));
  EXPECT_FALSE(store.run("kc"));
  EXPECT_TRUE(store.run("ka"));
  EXPECT_TRUE(store.run("kx"));
  EXPECT_EQ(count_rows(store, "runs"), 2);
  EXPECT_EQ(count_rows(store, "steps"), 2);  // ka's two; b's and c's went with their runs

  // A log that turns unparseable takes its run with it.
  t.write("exp/a.jsonl", LogWriter().line("truncated by hand"));
  const IngestStats s2 = ingest_tree(store, t.logs, t.root.str());
  EXPECT_EQ(s2.files_failed, 2) << stats_text(s2);
  EXPECT_FALSE(store.run("ka"));
}

TEST(IngestTree, CopiedLogLosesToTheFirstPath) {
  Tree t;
  fs::copy_file(t.logs + "/exp/b.jsonl", t.logs + "/exp/z-copy.jsonl");
  fs::copy_file(t.logs + "/exp/b.jsonl", t.logs + "/exp/0-copy.jsonl");
  Store store(t.root.file("results.sqlite"));
  const IngestStats s = ingest_tree(store, t.logs, t.root.str());
  EXPECT_EQ(store.run("kb")->log_path, "logs/exp/0-copy.jsonl");
  EXPECT_EQ(s.files_failed, 3) << stats_text(s);  // broken + b + z-copy
  const std::string once = dump_store(store);
  const IngestStats again = ingest_tree(store, t.logs, t.root.str());
  EXPECT_EQ(dump_store(store), once) << stats_text(again);
  EXPECT_EQ(again.files_failed, 3) << stats_text(again);
  // The winner goes: the next path takes over.
  fs::remove(t.logs + "/exp/0-copy.jsonl");
  ingest_tree(store, t.logs, t.root.str());
  EXPECT_EQ(store.run("kb")->log_path, "logs/exp/b.jsonl");
}

TEST(IngestTree, ManyFilesInParallelMatchOneByOne) {
  TempDir root;
  const std::string logs = root.file("logs");
  for (int f = 0; f < 40; ++f) {
    LogWriter w;
    w.run("k" + std::to_string(f), 1, "exp" + std::to_string(f % 3), {{"i", f}}).start();
    for (int i = 0; i < 50 + f; ++i) w.step(i, 1.0 / (i + 1));
    w.rec(jenga::protocol::make_summary({{"peak_mib", 100.0 * f}}));
    if (f % 4) w.end(Status::Ok).exit(Status::Ok);
    fs::create_directories(logs + "/d" + std::to_string(f % 5));
    w.write(logs + "/d" + std::to_string(f % 5) + "/k" + std::to_string(f) + ".jsonl");
  }
  Store bulk(root.file("bulk.sqlite"));
  const IngestStats s = ingest_tree(bulk, logs, root.str());
  EXPECT_EQ(s.files_ingested, 40);
  Store single(root.file("single.sqlite"));
  for (const auto& e : fs::recursive_directory_iterator(logs))
    if (e.is_regular_file()) ingest_file(single, e.path().string(), root.str());
  EXPECT_EQ(dump_store(bulk), dump_store(single));
  EXPECT_EQ(count_rows(bulk, "steps"), 40 * 50 + 39 * 40 / 2);
}

TEST(IngestTree, MissingLogsDirIsAnError) {
  TempDir root;
  Store store(root.file("results.sqlite"));
  EXPECT_THROW(ingest_tree(store, root.file("nope"), root.str()), Error);
  fs::create_directories(root.file("logs"));
  const IngestStats s = ingest_tree(store, root.file("logs"), root.str());
  EXPECT_EQ(s.files_seen, 0);
}
