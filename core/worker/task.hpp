// A worker task: one kind of run (`jenga-worker <task> ...`). Tasks print records
// (protocol/record.hpp) through emit(); main() owns start/end framing and error mapping.
#pragma once

#include <jenga/protocol/record.hpp>

#include <functional>
#include <string>
#include <vector>

namespace jenga::worker {

using Json = nlohmann::json;

struct TaskContext {
  std::string task;
  std::string run_key;
  Json params = Json::object();      // from --params (the harness's normalised parameters)
  Json model_spec = Json::object();  // from --model-spec (resolved configs/models entry), may be empty
  std::string device = "auto";       // params["device"] or "auto"
};

// Prints one record as a single line on stdout and flushes (the harness tees it live).
void emit(const Json& record);

// A task returns its summary values; main() emits them and `end ok`. Errors are thrown.
struct Task {
  std::string name;
  std::string summary;  // one line for --help
  std::function<Json(TaskContext&)> run;
  std::string params_help = {};  // `jenga-worker <task> --help`: the params it accepts
};

// Throws core::Error naming the first parameter of `params` not in `known` (plus the keys every
// task accepts: model, device, hf_config, checkpoint, weights): a typo must not run silently.
void require_known_params(const Json& params, const std::vector<std::string>& known, const std::string& task);

// All tasks this build knows, in --help order.
const std::vector<Task>& all_tasks();

}  // namespace jenga::worker
