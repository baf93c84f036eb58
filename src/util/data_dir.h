#pragma once
// Where greenrun's curated data (share/greenrun: intensity/, hardware/...) is.

#include <string>
#include <vector>

#include "util/env.h"

namespace greenrun {

/// Where the data may be, in order: $GREENRUN_DATA_DIR (alone, and ignored
/// with raised privileges); <exe>/../share/greenrun (a relocated install);
/// the data directory of the prefix greenrun was built for; the source
/// tree's share/ (only for a binary inside its build directory).
std::vector<std::string> data_dir_candidates(const EnvLookup& env = real_env);
/// The first candidate that has intensity/zones.csv, or "" with none.
std::string find_data_dir(const EnvLookup& env = real_env);

}  // namespace greenrun
