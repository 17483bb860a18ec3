// The hot path of ingest: step records are most of every log, and building an nlohmann DOM for
// each (then dumping it again for the store) costs ~8 us a line here. scan_step_record checks
// a line against the strict JSON grammar without building anything and cuts the "event"
// member out of the original text. It answers only when sure: `false` means "not certainly a
// valid step record — ask protocol::parse_record", which stays the authority on every line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace jenga::harness {

struct ScannedStep {
  std::int64_t step = 0;
  std::string data;  // the record's own text minus its "event" member: valid, compact-enough JSON
};

// True only for a line that protocol::parse_record would accept as a step record with the same
// step index and whose data (minus "event") parses to the same JSON. Never throws but bad_alloc.
bool scan_step_record(std::string_view line, ScannedStep& out);

// Deepest nesting of [ and { outside strings (0 for a scalar). Guards recursive JSON code
// (nlohmann's dump and operator== recurse) against lines like "[[[[...".
int json_nesting_depth(std::string_view text);

}  // namespace jenga::harness
