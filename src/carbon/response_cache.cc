#include "carbon/response_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "util/fs.h"
#include "util/privilege.h"

namespace greenrun {

namespace {

constexpr const char* kMagic = "greenrun-cache 1";

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

int64_t unix_ns(ResponseCache::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

/// The directory, created 0700; refused when it is not a directory the user owns.
bool ensure_dir(const std::string& dir) {
  const size_t slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) ::mkdir(dir.substr(0, slash).c_str(), 0700);
  ::mkdir(dir.c_str(), 0700);
  struct stat st {};
  return ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::getuid();
}

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string ResponseCache::default_dir(const EnvLookup& env) {
  if (running_privileged()) return "";
  if (auto x = env("XDG_CACHE_HOME"); x && !x->empty() && (*x)[0] == '/') return *x + "/greenrun";
  if (auto h = env("HOME"); h && !h->empty()) return *h + "/.cache/greenrun";
  return "";
}

std::string ResponseCache::path_for(const std::string& key) const {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.cache", static_cast<unsigned long long>(fnv1a(key)));
  return dir_ + "/" + name;
}

std::optional<std::string> ResponseCache::get(const std::string& key, time_point now) const {
  if (!enabled()) return std::nullopt;
  const int fd = ::open(path_for(key).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  // magic \n fetched-at ns \n key \n body
  const size_t a = text.find('\n'), b = a == std::string::npos ? a : text.find('\n', a + 1),
               c = b == std::string::npos ? b : text.find('\n', b + 1);
  if (c == std::string::npos || text.compare(0, a, kMagic) != 0 || text.compare(b + 1, c - b - 1, key) != 0)
    return std::nullopt;
  auto fetched = parse_u64(std::string_view(text).substr(a + 1, b - a - 1));
  if (!fetched) return std::nullopt;
  const int64_t age = unix_ns(now) - static_cast<int64_t>(*fetched);
  if (age < -60'000'000'000LL || age > ttl_.count()) return std::nullopt;  // stale, or from a clock far ahead
  return text.substr(c + 1);
}

void ResponseCache::put(const std::string& key, const std::string& body, time_point now) const {
  if (!enabled() || !ensure_dir(dir_)) return;
  const std::string path = path_for(key);
  const std::string tmp = path + ".tmp" + std::to_string(std::random_device{}());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  write_all(fd, std::string(kMagic) + "\n" + std::to_string(unix_ns(now)) + "\n" + key + "\n" + body);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

}  // namespace greenrun
