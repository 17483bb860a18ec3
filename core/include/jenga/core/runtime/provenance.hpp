// Where and with what a run happened: commit, LibTorch/CUDA versions, GPU, driver, host, time.
// Stored in every start record; never part of a run key.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace jenga::core {

// `device` as given to select_device (e.g. "cuda:0", "cpu"). Fields are present even when
// unknown (value "unknown"), so a missing fact shows as missing rather than vanishing.
nlohmann::json collect_provenance(const std::string& device);

// Current UTC time as ISO-8601 with milliseconds ("2026-11-22T17:40:00.123Z").
std::string utc_now_iso();

}  // namespace jenga::core
