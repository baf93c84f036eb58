#include "config/config_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "config/option_table.h"
#include "util/fs.h"
#include "util/input_file.h"
#include "util/privilege.h"

namespace greenrun {

std::string config_file_path(const EnvLookup& env) {
  if (auto v = env("GREENRUN_CONFIG")) return *v;  // set but empty: no user file
  std::string path;
  if (auto x = env("XDG_CONFIG_HOME"); x && !x->empty()) path = *x + "/greenrun/config";
  else if (auto h = env("HOME"); h && !h->empty()) path = *h + "/.config/greenrun/config";
  return !path.empty() && path_exists(path) ? path : "";
}

const std::vector<SecretSpec>& secret_table() {
  static const std::vector<SecretSpec> table = {
      {"electricitymaps-token", "GREENRUN_ELECTRICITYMAPS_TOKEN"},
      {"watttime-username", "GREENRUN_WATTTIME_USERNAME"},
      {"watttime-password", "GREENRUN_WATTTIME_PASSWORD"},
  };
  return table;
}

namespace {

const SecretSpec* find_secret(std::string_view key) {
  for (const auto& s : secret_table())
    if (key == s.key) return &s;
  return nullptr;
}

}  // namespace

void remove_credentials_from_environment() {
  for (const auto& s : secret_table()) ::unsetenv(s.env);
}

std::optional<bool> parse_bool(std::string_view text) {
  for (std::string_view yes : {"true", "yes", "on", "1"})
    if (text == yes) return true;
  for (std::string_view no : {"false", "no", "off", "0"})
    if (text == no) return false;
  return std::nullopt;
}

Status parse_config_text(std::string_view text, const std::string& path, ConfigValues& out,
                                             std::vector<std::string>* warnings) {
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line(trim(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos)));
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    auto eq = line.find('=');
    std::string where = path + " line " + std::to_string(line_no);
    if (eq == std::string::npos) return Status::fail(where + ": expected key = value");
    std::string key(trim(std::string_view(line).substr(0, eq)));
    std::string value(trim(std::string_view(line).substr(eq + 1)));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    const OptionSpec* spec = find_option(key);
    if ((!spec || !spec->config) && !find_secret(key))
      return Status::fail(where + ": unknown setting '" + key + "' (greenrun config lists the settings; see man greenrun, CONFIGURATION)");
    if (auto it = out.find(key); it != out.end() && warnings)
      warnings->push_back(where + ": " + key + " is also set on line " + std::to_string(it->second.second) + "; line " +
                          std::to_string(line_no) + " wins (remove one of them)");
    out[key] = {value, line_no};
  }
  return {};
}

namespace {

// A file holding a credential must be its owner's alone: mode 0600 (no group
// or other bits), owned by the user (root for the system file).
Status check_secret_file(const ConfigFile& file, const struct stat& st, bool system) {
  const auto secret = std::find_if(file.values.begin(), file.values.end(), [](const auto& kv) { return find_secret(kv.first); });
  if (secret == file.values.end()) return {};
  const std::string where = file.path + " line " + std::to_string(secret->second.second) + ": " + secret->first;
  if (st.st_mode & 077)
    return Status::fail(where + " is a secret, but the file is readable by others; run chmod 600 " + file.path);
  const uid_t owner = system ? 0 : ::getuid();
  if (st.st_uid != owner)
    return Status::fail(where + " is a secret, but the file belongs to uid " + std::to_string(st.st_uid) + ", not " +
           (system ? std::string("root") : "you") + "; keep secrets in a file of your own (chmod 600)");
  return {};
}

// A key naming something greenrun loads or reads as the machine's own
// (a library, a root directory) is taken only from a file that nobody but
// its user and root could have written: as root, a library named in
// another user's file would run as root.
Status check_trusted_keys(const ConfigFile& file, const struct stat& st) {
  for (const char* key : kTrustedKeys) {
    auto it = file.values.find(key);
    if (it == file.values.end()) continue;
    const std::string why = untrusted_because(st);
    if (why.empty()) return {};
    return Status::fail(file.path + " line " + std::to_string(it->second.second) + ": " + key +
           " names what greenrun loads or trusts, but " + why + "; such a key is read only from a file of yours or " +
           "root's that no one else may write (chown it, chmod go-w " + file.path + "), or give --" + key);
  }
  return {};
}

// One file, read through one descriptor (with the user's own permissions
// for the user's file) so that the owner and mode checked are the file read.
Result<ConfigFile> read_config_file(const std::string& path, bool system, std::vector<std::string>& warnings) {
  struct stat st {};
  auto text = read_input_file(path, "the config file", kMaxConfigFileBytes, !system, &st);
  if (!text) return Result<ConfigFile>::fail(text.error());
  ConfigFile file{path, {}};
  if (auto ok = parse_config_text(*text, path, file.values, &warnings); !ok) return Result<ConfigFile>::fail(ok.error());
  if (auto ok = check_secret_file(file, st, system); !ok) return Result<ConfigFile>::fail(ok.error());
  if (auto ok = check_trusted_keys(file, st); !ok) return Result<ConfigFile>::fail(ok.error());
  return file;
}

std::string user_config_path(const RawSettings& raw, const EnvLookup& env) {
  if (raw.given("config")) return raw.values.at("config");
  return config_file_path(env);
}

void take_credentials(ConfigLayers& layers, const EnvLookup& env) {
  for (const auto& s : secret_table()) {
    if (auto v = env(s.env); v && !v->empty()) {
      layers.credential_origin[s.key] = s.env;
      continue;
    }
    for (auto f = layers.files.rbegin(); f != layers.files.rend(); ++f)
      if (auto it = f->values.find(s.key); it != f->values.end()) {
        layers.credentials[s.env] = it->second.first;
        layers.credential_origin[s.key] = f->path + " line " + std::to_string(it->second.second);
        break;
      }
  }
}

}  // namespace

Result<ConfigLayers> apply_config(RawSettings& raw, const EnvLookup& env, const std::string& system_path) {
  ConfigLayers layers;
  if (!system_path.empty() && path_exists(system_path)) {
    auto file = read_config_file(system_path, true, layers.warnings);
    if (!file) return Result<ConfigLayers>::fail(file.error());
    layers.files.push_back(std::move(*file));
  }
  if (const std::string user = user_config_path(raw, env); !user.empty()) {
    auto file = read_config_file(user, false, layers.warnings);
    if (!file) return Result<ConfigLayers>::fail(file.error());
    layers.files.push_back(std::move(*file));
  }
  if (auto st = fill_from_environment(raw, env, layers.files); !st) return Result<ConfigLayers>::fail(st.error());
  take_credentials(layers, env);
  return layers;
}

}  // namespace greenrun
