#include "commands/output_paths.h"

#include <unistd.h>

#include "cluster/slurm.h"
#include "outputs/sink.h"

namespace greenrun {

namespace {

// "--step-summary" of "--step-summary, GITHUB_STEP_SUMMARY"; "--summary-file"
// of "(stderr) or --summary-file".
std::string flag_of(const std::string& option) {
  const size_t at = option.find("--");
  if (at == std::string::npos) return option;
  const size_t end = option.find_first_of(", ", at);
  return option.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

Status expand_one(std::string& path, const std::string& flag, const EnvLookup& env) {
  auto expanded = expand_output_path(path, env);
  if (!expanded) return Status::fail(flag + " " + expanded.error());
  path = *expanded;
  return {};
}

}  // namespace

Result<std::string> expand_output_path(const std::string& path, const EnvLookup& env) {
  if (path.find('%') == std::string::npos) return path;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return expand_placeholders(path, slurm_step(env), host, ::getpid());
}

Status expand_output_paths(Options& o, const EnvLookup& env) {
  for (const auto& e : sink_table())
    if (e.path)
      if (auto st = expand_one(o.outputs.*e.path, flag_of(e.option), env); !st) return st;
  return expand_one(o.log_file, "--log-file", env);
}

Result<Options> checked_subcommand_options(const RawSettings& raw, const EnvLookup& env) {
  auto o = subcommand_options(raw);
  if (!o) return o;
  if (auto st = expand_output_paths(*o, env); !st) return Result<Options>::fail(st.error());
  return o;
}

}  // namespace greenrun
