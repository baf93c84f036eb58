#pragma once
// The config files: the system file, then the user's (or --config, or
// $GREENRUN_CONFIG), merged key by key under the environment and the command
// line. The files may also hold the grid providers' credentials, which no
// option, output or message ever shows.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/env.h"
#include "util/result.h"

namespace greenrun {

/// The system-wide config file, beneath the user's.
inline constexpr const char* kSystemConfigPath = "/etc/greenrun/config";

/// The user's config file: $GREENRUN_CONFIG (set but empty: none), else
/// $XDG_CONFIG_HOME/greenrun/config, else ~/.config/greenrun/config. "" when
/// none of them exists.
std::string config_file_path(const EnvLookup& env);

struct RawSettings;

/// A credential a config file may hold, under `key`; its environment variable wins.
struct SecretSpec {
  const char* key;  // "electricitymaps-token"
  const char* env;  // "GREENRUN_ELECTRICITYMAPS_TOKEN"
};
const std::vector<SecretSpec>& secret_table();

/// Settings from a config file: key -> (value, line).
using ConfigValues = std::map<std::string, std::pair<std::string, int>>;

struct ConfigFile {
  std::string path;
  ConfigValues values;
};

/// Reads `key = value` lines (# or ; comments, [sections] ignored, values
/// optionally quoted); an unknown key or a malformed line is an error naming
/// `path` and the line. A key set twice: the last wins, and `warnings` gets a
/// line naming both lines.
Status parse_config_text(std::string_view text, const std::string& path, ConfigValues& out,
                                             std::vector<std::string>* warnings = nullptr);

/// The keys that name something greenrun loads or reads as the machine's own
/// (a library, a root directory): a file holding one must belong to the user
/// or root and be writable by no one else (see untrusted_because).
inline constexpr const char* kTrustedKeys[] = {"nvml-lib", "rocm-lib", "sysfs-root", "procfs-root", "dev-root"};

/// What the files and the environment decided beyond the options.
struct ConfigLayers {
  std::vector<ConfigFile> files;  // weakest first: the system file, then the user's
  /// Credentials by environment variable, from a file where the environment has none.
  std::map<std::string, std::string> credentials;
  /// Where each credential came from, by key ("GREENRUN_WATTTIME_PASSWORD", "FILE line 2").
  std::map<std::string, std::string> credential_origin;
  /// "FILE line 7: csv is also set on line 3; ...": printed, never fatal.
  std::vector<std::string> warnings;
};

/// Reads the system file (`system_path`, when it exists) and the user file
/// (--config in `raw`, else config_file_path), then fills every option of
/// `raw` not given on the command line: environment > user file > system file
/// > default. An unreadable file, an unknown key, a bad boolean or a credential
/// in a file others may read is an error naming the file (and the line).
Result<ConfigLayers> apply_config(RawSettings& raw, const EnvLookup& env, const std::string& system_path = kSystemConfigPath);

/// Unsets every credential variable of secret_table() (the providers have
/// read theirs by then): the command, and whatever it runs, never inherits
/// greenrun's grid credentials. Called before the spawn.
void remove_credentials_from_environment();

/// "true", "yes", "on", "1" / "false", "no", "off", "0"; nullopt otherwise.
std::optional<bool> parse_bool(std::string_view text);

}  // namespace greenrun
