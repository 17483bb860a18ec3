// Builds fixture logs line by line, as the harness tee would write them.
#pragma once

#include <jenga/protocol/record.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace jenga::harness::test {

namespace proto = jenga::protocol;

class LogWriter {
 public:
  LogWriter& line(const std::string& text) {
    text_ += text + "\n";
    return *this;
  }
  LogWriter& rec(const proto::Json& j) { return line(j.dump()); }

  LogWriter& run(const std::string& key, int attempt = 1, const std::string& experiment = "exp",
                 const proto::Json& params = {{"seq_len", 1024}}) {
    return rec(proto::make_run(experiment, "h100", key, "train-bench", params, proto::Json::array({"jenga-worker"}),
                               attempt, "2026-01-0" + std::to_string(attempt) + "T00:00:00Z"));
  }
  LogWriter& start() {
    return rec(proto::make_start("train-bench", {{"seq_len", 1024}}, {{"gpu", "NVIDIA H100"}, {"commit", "c0ffee"}, {"host", "n1"}}));
  }
  LogWriter& step(int i, double loss = 2.0) {
    return rec(proto::make_step(i, {{"forward", 10.5}, {"backward", 20.25}}, {{"peak_allocated", 1000.0 + i}}, {{"loss", loss}}));
  }
  LogWriter& end(proto::Status s, const std::string& msg = {}) { return rec(proto::make_end(s, msg)); }
  LogWriter& exit(proto::Status s, proto::Json code = 0, proto::Json signal = nullptr, const std::string& msg = {}) {
    return rec(proto::make_exit(s, code, signal, 12.5, "2026-01-01T00:00:12Z", msg));
  }

  const std::string& text() const { return text_; }
  void write(const std::string& path) const {
    std::ofstream f(path, std::ios::binary);
    f << text_;
  }

 private:
  std::string text_;
};

}  // namespace jenga::harness::test
