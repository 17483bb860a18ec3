// Test helpers for spec files: a throwaway folder tree under the system temp dir, and a way to
// catch the one error type the spec loaders may throw.
#pragma once

#include "harness/common/error.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>

namespace jenga::harness::testing {

class TempTree {
 public:
  TempTree() {
    static std::atomic<int> counter{0};
    root_ = std::filesystem::temp_directory_path() /
            ("jenga-spec-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  std::string root() const { return root_.string(); }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }

  // Writes `content` to root/rel (creating folders) and returns the full path.
  std::string write(const std::string& rel, const std::string& content) const {
    const auto p = root_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    EXPECT_TRUE(out.good()) << "cannot write " << p;
    return p.string();
  }

 private:
  std::filesystem::path root_;
};

// EXPECT_CONTAINS(text, part): text must contain part (shows both when it does not).
inline ::testing::AssertionResult contains_pred(const char* text_expr, const char* part_expr, const std::string& text,
                                                const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << text_expr << " does not contain " << part_expr << "\n  text: " << text
                                       << "\n  part: " << part;
}
#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::jenga::harness::testing::contains_pred, text, part)

// Runs f, which must throw jenga::harness::Error; returns it. Any other outcome fails the test.
inline Error expect_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected jenga::harness::Error, got another exception: " << e.what();
    return Error("(wrong exception type)");
  }
  ADD_FAILURE() << "expected jenga::harness::Error, nothing was thrown";
  return Error("(nothing thrown)");
}

}  // namespace jenga::harness::testing
