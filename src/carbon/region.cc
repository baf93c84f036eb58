#include "carbon/region.h"

#include <climits>
#include <cstdlib>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "util/fs.h"
#include "util/units.h"

namespace greenrun {

std::string factor_name(Factor f) { return f == Factor::Lifecycle ? "life-cycle" : "direct"; }

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Picks the figure of the asked factor, falling back to the other one with a note.
bool pick(const std::optional<double>& lifecycle, const std::optional<double>& direct, Factor want, Location& loc) {
  const auto& first = want == Factor::Lifecycle ? lifecycle : direct;
  const auto& other = want == Factor::Lifecycle ? direct : lifecycle;
  if (first) {
    loc.g_per_kwh = *first;
    loc.factor = want;
    return true;
  }
  if (other) {
    loc.g_per_kwh = *other;
    loc.factor = want == Factor::Lifecycle ? Factor::Direct : Factor::Lifecycle;
    loc.note = "no " + factor_name(want) + " figure for " + loc.name + "; its " + factor_name(loc.factor) +
               " figure is used";
    return true;
  }
  return false;
}

Location from_zone(const Zone& z, Factor factor) {
  Location loc;
  loc.id = z.id;
  loc.name = z.name;
  loc.zone = z.id;
  loc.year = z.year;
  loc.source = z.source;
  loc.country_iso2 = z.country;
  pick(z.lifecycle_g_per_kwh, z.direct_g_per_kwh, factor, loc);
  return loc;
}

Location from_country(const CarbonData& data, const Country& c, Factor factor) {
  if (!c.zone.empty())
    if (const Zone* z = data.zone(c.zone)) {
      Location loc = from_zone(*z, factor);
      loc.name = c.name;
      return loc;
    }
  Location loc;
  loc.id = c.iso2;
  loc.name = c.name;
  loc.year = c.year;
  loc.source = c.source;
  loc.country_iso2 = c.iso2;
  pick(c.lifecycle_g_per_kwh, c.direct_g_per_kwh, factor, loc);
  return loc;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string fold_name(const std::string& s) {
  // Latin-1 Supplement letters (U+00C0..U+00FF) as UTF-8 0xC3 0x80..0xBF.
  static const char* kLatin1 = "aaaaaaaceeeeiiiidnooooo*ouuuuyts" "aaaaaaaceeeeiiiidnooooo/ouuuuyty";
  std::string out;
  bool space = false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char folded;
    if (c == 0xC3 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0xBF) {
      folded = kLatin1[static_cast<unsigned char>(s[i + 1]) - 0x80];
      ++i;
    } else if (c < 0x80) {
      folded = static_cast<char>(std::tolower(c));
    } else {
      folded = static_cast<char>(c);
    }
    if (folded == ' ' || folded == '-' || folded == '_' || folded == '.' || folded == ',') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(folded);
  }
  return out;
}

Location world_average(const CarbonData& data, Factor factor) {
  const Zone* g = data.zone("GLOBAL");
  Location loc = g ? from_zone(*g, factor) : Location{};
  loc.name = "world average";
  return loc;
}

std::vector<std::string> closest_regions(const CarbonData& data, const std::string& query, size_t n) {
  const std::string q = fold_name(query);
  struct Cand {
    std::string label;
    size_t score;
  };
  std::vector<Cand> cands;
  auto consider = [&](const std::string& key, const std::string& label) {
    std::string k = fold_name(key);
    if (k.empty()) return;
    size_t score = k.find(q) != std::string::npos ? 0 : 1 + edit_distance(q, k);
    cands.push_back({label, score});
  };
  for (const auto& z : data.zones) {
    std::string label = z.id + " (" + z.name + ")";
    consider(z.id, label);
    consider(z.name, label);
  }
  for (const auto& c : data.countries) {
    std::string label = c.iso2 + " (" + c.name + ")";
    consider(c.name, label);
    for (const auto& a : c.aliases) consider(a, label);
  }
  std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.score < b.score; });
  std::vector<std::string> out;
  const size_t max_distance = std::max<size_t>(3, q.size() / 3) + 1;
  for (const auto& c : cands) {
    if (out.size() >= n || c.score > max_distance) break;
    if (std::find(out.begin(), out.end(), c.label) == out.end()) out.push_back(c.label);
  }
  return out;
}

Result<Location> resolve_region(const CarbonData& data, const std::string& query, Factor factor) {
  const std::string q = fold_name(query);
  if (q.empty()) return Result<Location>::fail("--region is empty; give a zone, a country code or a name");
  if (q == "world" || q == "global" || q == "world average") return world_average(data, factor);
  if (const Zone* z = data.zone(query)) {
    Location loc = from_zone(*z, factor);
    if (const Country* c = data.country_by_code(z->id); c && c->zone == z->id) loc.name = c->name;
    return loc;
  }
  if (const Country* c = data.country_by_code(query)) return from_country(data, *c, factor);
  for (const auto& c : data.countries) {
    if (fold_name(c.name) == q) return from_country(data, c, factor);
    for (const auto& a : c.aliases)
      if (fold_name(a) == q) return from_country(data, c, factor);
  }
  for (const auto& z : data.zones)
    if (fold_name(z.name) == q) return from_zone(z, factor);
  std::string msg = "unknown region '" + query + "'";
  auto near = closest_regions(data, query);
  if (!near.empty()) {
    msg += "; did you mean ";
    for (size_t i = 0; i < near.size(); ++i) msg += (i ? ", " : "") + near[i];
    msg += "?";
  }
  msg += " ('greenrun regions " + query + "' lists matches)";
  return Result<Location>::fail(msg);
}

Result<Location> resolve_cloud(const CarbonData& data, const std::string& spec, Factor factor) {
  auto colon = spec.find(':');
  if (colon == std::string::npos)
    return Result<Location>::fail("--cloud " + spec + ": expected PROVIDER:REGION, e.g. aws:us-east-1, gcp:europe-west9, azure:westeurope");
  std::string provider = lower(spec.substr(0, colon)), region = lower(spec.substr(colon + 1));
  if (provider == "google") provider = "gcp";
  if (provider == "amazon") provider = "aws";
  if (provider != "aws" && provider != "gcp" && provider != "azure")
    return Result<Location>::fail("--cloud " + spec + ": unknown provider '" + provider + "'; use aws, gcp or azure");
  const CloudRegion* found = nullptr;
  std::vector<std::string> names;
  for (const auto& r : data.cloud) {
    if (r.provider != provider) continue;
    names.push_back(r.region);
    if (lower(r.region) == region) found = &r;
  }
  if (!found) {
    std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
      return edit_distance(region, lower(a)) < edit_distance(region, lower(b));
    });
    std::string msg = "--cloud " + spec + ": unknown " + provider + " region '" + region + "'";
    if (!names.empty()) {
      msg += "; did you mean ";
      for (size_t i = 0; i < names.size() && i < 3; ++i) msg += (i ? ", " : "") + provider + ":" + names[i];
      msg += "?";
    }
    return Result<Location>::fail(msg + " ('greenrun regions " + provider + "' lists them)");
  }
  Location loc;
  const Zone* z = found->zone.empty() ? nullptr : data.zone(found->zone);
  // Google publishes each region's grid intensity itself (direct emissions):
  // used for the direct factor, and when no zone is mapped.
  bool google = found->google_direct_g_per_kwh && (factor == Factor::Direct || !z);
  if (google) {
    loc.g_per_kwh = *found->google_direct_g_per_kwh;
    loc.factor = Factor::Direct;
    loc.year = 2024;
    loc.source = "Google Cloud region carbon data 2024 (grid intensity, direct)";
    if (factor == Factor::Lifecycle)
      loc.note = "no life-cycle figure for gcp:" + found->region + " (" + std::string(found->note) + "); Google's direct figure is used";
  } else if (z) {
    loc = from_zone(*z, factor);
  } else {
    return Result<Location>::fail(provider + ":" + found->region + " has no grid figure (" + std::string(found->note) +
                                  "); give --region or --intensity as well");
  }
  loc.id = provider + ":" + found->region;
  loc.name = loc.id + (found->location.empty() ? "" : " (" + found->location + ")");
  loc.zone = found->zone;
  if (z) loc.country_iso2 = z->country;
  loc.cloud_provider = provider;
  loc.cloud_region = found->region;
  return loc;
}

std::string system_time_zone(const std::optional<std::string>& tz_env, const std::string& etc_dir) {
  auto after_zoneinfo = [](const std::string& path) -> std::string {
    auto pos = path.find("zoneinfo/");
    if (pos == std::string::npos) return "";
    std::string name = path.substr(pos + 9);
    if (name.rfind("posix/", 0) == 0) name = name.substr(6);
    if (name.rfind("right/", 0) == 0) name = name.substr(6);
    return name;
  };
  if (tz_env && !tz_env->empty()) {
    std::string tz = *tz_env;
    if (tz[0] == ':') tz.erase(0, 1);
    if (!tz.empty() && tz[0] == '/') return after_zoneinfo(tz);
    // "Area/City" or "UTC"; a POSIX rule such as "CET-1CEST" names no place.
    bool posix_rule = tz.find_first_of(",<") != std::string::npos ||
                      (tz.find('/') == std::string::npos && tz.find_first_of("0123456789") != std::string::npos);
    return posix_rule ? "" : tz;
  }
  if (auto tz = read_line(etc_dir + "/timezone"); tz && !trim(*tz).empty()) return std::string(trim(*tz));
  char buf[PATH_MAX];
  ssize_t n = ::readlink((etc_dir + "/localtime").c_str(), buf, sizeof buf - 1);
  if (n > 0) return after_zoneinfo(std::string(buf, static_cast<size_t>(n)));
  return "";
}

std::string country_of_time_zone(const std::string& tz, const std::string& zoneinfo_dir) {
  if (tz.empty()) return "";
  auto lookup = [&](const std::string& name) -> std::string {
    for (const char* file : {"zone.tab", "zone1970.tab"}) {
      auto text = read_file(zoneinfo_dir + "/" + file);
      if (!text) continue;
      size_t pos = 0;
      while (pos < text->size()) {
        size_t nl = text->find('\n', pos);
        std::string line = text->substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? text->size() : nl + 1;
        if (line.empty() || line[0] == '#') continue;
        size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
        if (t1 == std::string::npos || t2 == std::string::npos) continue;
        size_t t3 = line.find('\t', t2 + 1);
        if (line.substr(t2 + 1, t3 == std::string::npos ? std::string::npos : t3 - t2 - 1) != name) continue;
        return line.substr(0, std::min(line.find(','), t1));
      }
    }
    return "";
  };
  if (auto cc = lookup(tz); !cc.empty()) return cc;
  // An old or alternative name is a link to the canonical zone file.
  char buf[PATH_MAX];
  if (::realpath((zoneinfo_dir + "/" + tz).c_str(), buf)) {
    char base[PATH_MAX];
    std::string root = ::realpath(zoneinfo_dir.c_str(), base) ? base : zoneinfo_dir;
    std::string target = buf;
    if (target.rfind(root + "/", 0) == 0) {
      target = target.substr(root.size() + 1);
      if (target != tz) return lookup(target);
    }
  }
  return "";
}

Location guess_location(const CarbonData& data, const std::string& tz, const std::string& zoneinfo_dir, Factor factor) {
  const std::string set_it = "set --region, --cloud or GREENRUN_REGION for your grid";
  std::string cc = country_of_time_zone(tz, zoneinfo_dir);
  if (!cc.empty())
    if (const Country* c = data.country_by_code(cc)) {
      Location loc = from_country(data, *c, factor);
      loc.guessed = true;
      loc.how = "guessed from the time zone " + tz + "; " + set_it;
      return loc;
    }
  Location loc = world_average(data, factor);
  loc.guessed = true;
  loc.how = (tz.empty() ? std::string("no time zone is set") : "the time zone " + tz + " names no country") +
            ": world average used; " + set_it;
  return loc;
}

}  // namespace greenrun
