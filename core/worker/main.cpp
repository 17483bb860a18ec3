// jenga-worker: one process per run. Usage:
//   jenga-worker <task> [--run-key K] [--params JSON] [--model-spec JSON]
// Prints JSON-lines records (start ... end) on stdout; exit code 0 for ok, 3 oom, 4 diverged, 1 error.
#include "task.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/runtime/provenance.hpp"
#include "jenga/core/train/trainer.hpp"

#include <c10/util/Exception.h>

#include <cstring>
#include <iostream>

namespace {

using jenga::protocol::Status;
using jenga::worker::Json;

void usage(std::ostream& os) {
  os << "usage: jenga-worker <task> [--run-key KEY] [--params JSON] [--model-spec JSON]\n\n"
        "Runs one task and prints JSON-lines records (start, step, metric, summary, end) on stdout.\n"
        "params.device selects auto | cpu | cuda | cuda:N (default auto).\n\ntasks:\n";
  for (const auto& t : jenga::worker::all_tasks()) os << "  " << t.name << std::string(16 - std::min<size_t>(15, t.name.size()), ' ') << t.summary << "\n";
}

bool is_oom_message(const std::string& what) {
  return what.find("out of memory") != std::string::npos || what.find("CUDA out of memory") != std::string::npos;
}

int finish(Status status, const std::string& message) {
  jenga::worker::emit(jenga::protocol::make_end(status, message));
  switch (status) {
    case Status::Ok: return 0;
    case Status::Oom: return 3;
    case Status::Diverged: return 4;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  jenga::worker::TaskContext ctx;
  ctx.task = argv[1];
  if (argc == 3 && (!std::strcmp(argv[2], "--help") || !std::strcmp(argv[2], "-h"))) {
    for (const auto& t : jenga::worker::all_tasks())
      if (t.name == ctx.task) {
        std::cout << "jenga-worker " << t.name << ": " << t.summary << "\n\nparams (JSON object, --params):\n"
                  << (t.params_help.empty() ? std::string("  (none besides device)\n") : t.params_help);
        return 0;
      }
    std::cerr << "jenga-worker: unknown task '" << ctx.task << "'\n";
    usage(std::cerr);
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) { std::cerr << "jenga-worker: " << a << " needs a value\n"; std::exit(2); }
      return argv[++i];
    };
    try {
      if (a == "--run-key") ctx.run_key = value();
      else if (a == "--params") ctx.params = Json::parse(value());
      else if (a == "--model-spec") ctx.model_spec = Json::parse(value());
      else { std::cerr << "jenga-worker: unknown option " << a << "\n"; usage(std::cerr); return 2; }
    } catch (const Json::parse_error& e) {
      std::cerr << "jenga-worker: " << a << " is not valid JSON: " << e.what() << "\n";
      return 2;
    }
  }
  if (!ctx.params.is_object()) { std::cerr << "jenga-worker: --params must be a JSON object\n"; return 2; }
  const jenga::worker::Task* task = nullptr;
  for (const auto& t : jenga::worker::all_tasks()) if (t.name == ctx.task) task = &t;
  if (task == nullptr) { std::cerr << "jenga-worker: unknown task '" << ctx.task << "'\n"; usage(std::cerr); return 2; }
  ctx.device = ctx.params.value("device", std::string("auto"));

  Json provenance = Json::object();
  try {
    provenance = jenga::core::collect_provenance(ctx.device == "auto" ? jenga::core::select_device("auto").str() : ctx.device);
  } catch (const std::exception& e) {
    provenance["error"] = e.what();
  }
  provenance["run_key"] = ctx.run_key;
  jenga::worker::emit(jenga::protocol::make_start(ctx.task, ctx.params, provenance));
  try {
    Json summary = task->run(ctx);
    if (summary.is_object() && !summary.empty()) jenga::worker::emit(jenga::protocol::make_summary(summary));
    return finish(Status::Ok, {});
  } catch (const jenga::core::DivergedError& e) {
    return finish(Status::Diverged, e.what());
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    return finish(is_oom_message(what) ? Status::Oom : Status::Error, what);
  } catch (const std::bad_alloc&) {
    return finish(Status::Oom, "host allocation failed (std::bad_alloc)");
  } catch (const std::exception& e) {
    return finish(is_oom_message(e.what()) ? Status::Oom : Status::Error, e.what());
  }
}
