#pragma once
// Placeholders in output paths (%j, %s, %t, %n, %h, %p: see
// expand_placeholders): one file per Slurm rank, per host, per run. A run
// expands them before it checks any output; subcommands check them as a run
// would.

#include <string>

#include "commands/options.h"
#include "util/env.h"
#include "util/result.h"

namespace greenrun {

/// `path` with its placeholders expanded from `env` and this machine.
Result<std::string> expand_output_path(const std::string& path, const EnvLookup& env);

/// Every file `o` names for greenrun to write (each output in sink_table()
/// that writes a file, and --log-file), expanded in place; an error names the
/// option.
Status expand_output_paths(Options& o, const EnvLookup& env);

/// subcommand_options(), with the output paths expanded as a run's are: an
/// empty value, a bad value or a bad placeholder is refused with the run's
/// message.
Result<Options> checked_subcommand_options(const RawSettings& raw, const EnvLookup& env);

}  // namespace greenrun
