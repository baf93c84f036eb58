#include "commands/version_cmd.h"

#include "sensors/source_table.h"
#include "util/data_dir.h"
#include "util/env.h"
#include "util/privilege.h"
#include "util/version.h"

namespace greenrun {

std::string version_text() {
  std::string text = std::string("greenrun ") + kVersion + "\nenergy sources: " + source_names() + "\n";
  const std::string found = find_data_dir();
  text += "data: " + (found.empty() ? std::string("not found") : found) + " (looked in";
  const auto env_dir = real_env("GREENRUN_DATA_DIR");
  if (env_dir && !env_dir->empty() && running_privileged()) text += " GREENRUN_DATA_DIR ignored with raised privileges;";
  const auto candidates = data_dir_candidates();
  for (size_t i = 0; i < candidates.size(); ++i) text += (i ? ", " : " ") + candidates[i];
  return text + (env_dir && !env_dir->empty() && !running_privileged() ? ", from GREENRUN_DATA_DIR)\n" : ")\n");
}

}  // namespace greenrun
