#include "util/data_dir.h"

#include <climits>
#include <cstdlib>

#include "util/fs.h"
#include "util/privilege.h"

namespace greenrun {

std::vector<std::string> data_dir_candidates(const EnvLookup& env) {
  std::vector<std::string> out;
  // With raised privileges the data is the installed one: a directory the
  // user names could point greenrun's reads anywhere.
  if (auto v = env("GREENRUN_DATA_DIR"); v && !v->empty() && !running_privileged()) return {*v};
  const std::string dir = exe_dir();
  if (!dir.empty()) out.push_back(dir + "/../share/greenrun");  // a relocated install (PREFIX/bin, PREFIX/share)
  if (*GREENRUN_INSTALL_DATA_DIR) out.push_back(GREENRUN_INSTALL_DATA_DIR);  // the prefix it was built for
  // The source tree's share/ only for a binary still in its build directory:
  // an installed greenrun never reads a path that only existed where it was built.
  const std::string build = GREENRUN_BINARY_DIR;
  if (!build.empty() && !dir.empty() && (dir == build || dir.rfind(build + "/", 0) == 0))
    out.push_back(GREENRUN_SOURCE_SHARE_DIR);
  return out;
}

std::string find_data_dir(const EnvLookup& env) {
  if (auto v = env("GREENRUN_DATA_DIR"); v && !v->empty() && !running_privileged()) return *v;
  for (const auto& c : data_dir_candidates(env)) {
    if (!path_exists(c + "/intensity/zones.csv")) continue;
    char buf[PATH_MAX];
    return ::realpath(c.c_str(), buf) ? std::string(buf) : c;
  }
  return "";
}

}  // namespace greenrun
