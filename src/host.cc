#include "host.h"

#include <sys/random.h>
#include <sys/utsname.h>

#include <cstdio>
#include <cstdint>
#include <cstdlib>

#include "fs.h"

namespace greenrun {

HostInfo read_host_info(const std::string& procfs_root) {
  HostInfo h;
  if (auto text = read_file(procfs_root + "/cpuinfo")) {
    size_t pos = 0;
    while (pos < text->size()) {
      size_t nl = text->find('\n', pos);
      std::string_view line = std::string_view(*text).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? text->size() : nl + 1;
      auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      auto key = trim(line.substr(0, colon));
      if (key == "processor") ++h.cpu_count;
      else if (key == "model name" && h.cpu_model.empty()) h.cpu_model = std::string(trim(line.substr(colon + 1)));
    }
  }
  if (auto text = read_file(procfs_root + "/meminfo")) {
    auto pos = text->find("MemTotal:");
    if (pos != std::string::npos) {
      auto end = text->find('\n', pos);
      std::string v(trim(std::string_view(*text).substr(pos + 9, end - pos - 9)));
      if (v.size() > 3 && v.substr(v.size() - 3) == " kB") v.resize(v.size() - 3);
      h.ram_total_bytes = static_cast<double>(parse_u64(v).value_or(0)) * 1024.0;
    }
  }
  utsname u{};
  if (::uname(&u) == 0) h.os = std::string(u.sysname) + "-" + u.release + "-" + u.machine;
  return h;
}

std::string random_uuid() {
  uint8_t b[16] = {};
  if (::getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    // getrandom cannot fail for 16 bytes after boot; keep a unique-enough fallback.
    for (auto& x : b) x = static_cast<uint8_t>(std::rand());
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

}  // namespace greenrun
