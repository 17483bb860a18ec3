// The Store's schema as a list of migrations: entry i upgrades schema version i to i + 1.
// Never edit a released entry; append a new one (and bump Store::kSchemaVersion).
#pragma once

#include <string>
#include <vector>

namespace jenga::harness {

const std::vector<std::string>& schema_migrations();

}  // namespace jenga::harness
