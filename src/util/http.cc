#include "util/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "util/dynlib.h"
#include "util/resolve.h"
#include "util/units.h"
#include "util/version.h"

namespace greenrun {

namespace {

/// libcurl, opened the first time a provider is asked: loading it and the
/// thirty libraries it needs at every start cost ~500 page faults, for runs
/// that never touch the network (the header gives the types and constants).
struct CurlApi {
  DynLib lib;
  std::string error;  // empty once loaded
  CURLcode (*global_init)(long) = nullptr;
  CURL* (*easy_init)() = nullptr;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
  CURLcode (*easy_perform)(CURL*) = nullptr;
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
  void (*easy_cleanup)(CURL*) = nullptr;
  const char* (*easy_strerror)(CURLcode) = nullptr;
  curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
  void (*slist_free_all)(curl_slist*) = nullptr;

  bool bind_all() {
    return lib.bind(global_init, {"curl_global_init"}) && lib.bind(easy_init, {"curl_easy_init"}) &&
           lib.bind(easy_setopt, {"curl_easy_setopt"}) && lib.bind(easy_perform, {"curl_easy_perform"}) &&
           lib.bind(easy_getinfo, {"curl_easy_getinfo"}) && lib.bind(easy_cleanup, {"curl_easy_cleanup"}) &&
           lib.bind(easy_strerror, {"curl_easy_strerror"}) && lib.bind(slist_append, {"curl_slist_append"}) &&
           lib.bind(slist_free_all, {"curl_slist_free_all"});
  }
};

/// Loaded once, by whoever asks first (a static's initialisation is
/// thread-safe; curl_global_init itself is not, so it runs here too).
const CurlApi& curl_api() {
  static const CurlApi api = [] {
    CurlApi a;
    if (!a.lib.open({"libcurl.so.4", "libcurl-gnutls.so.4"}))
      a.error = "libcurl is not installed (" + a.lib.error() + "); install libcurl4 to use --intensity-source";
    else if (!a.bind_all())
      a.error = "the libcurl at " + a.lib.path() + " lacks a function greenrun needs; install libcurl4 (7.88 or later)";
    else
      a.global_init(CURL_GLOBAL_DEFAULT);
    return a;
  }();
  return api;
}

struct Body {
  std::string* out;
  size_t limit;
  bool over = false;
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
  auto* b = static_cast<Body*>(user);
  if (b->out->size() + size * n > b->limit) {
    b->over = true;
    return 0;  // aborts the transfer
  }
  b->out->append(data, size * n);
  return size * n;
}

/// "https://host:port" of a request's URL.
std::string origin_of(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  return url.substr(0, url.find_first_of("/?#", start));
}

std::string host_of(const std::string& url) {
  auto u = parse_url(origin_of(url));
  return u ? u->host : "the provider";
}

std::string seconds_text(std::chrono::milliseconds ms) { return significant(static_cast<double>(ms.count()) / 1000.0) + " s"; }

/// Where libcurl may connect for `url`: greenrun resolves the name itself
/// within the budget (libcurl's resolver is not bounded by its timeouts) and
/// pins the addresses ("host:port:addr,..." for CURLOPT_RESOLVE; "" for an
/// address). Plain http goes only to loopback addresses, whatever a name
/// such as "localhost" resolves to.
Result<std::string> pinned_addresses(const std::string& url, std::chrono::steady_clock::time_point deadline,
                                     std::chrono::milliseconds budget) {
  using R = Result<std::string>;
  auto u = parse_url(origin_of(url));
  if (!u) return R::fail(u.error());
  auto found = resolve(u->host, u->port, deadline);
  if (!found) {
    if (std::chrono::steady_clock::now() >= deadline)
      return R::fail(u->host + ": no answer from the name server within " + seconds_text(budget) + " (--intensity-timeout)");
    return R::fail(found.error() + " (offline?)");
  }
  std::string list;
  for (const auto& a : *found) {
    if (u->scheme == "http" && !is_loopback_address(a.text))
      return R::fail(u->host + " is " + a.text + ", not a loopback address: plain http only to this machine, else https");
    list += (list.empty() ? "" : ",") + (a.family == AF_INET6 ? "[" + a.text + "]" : a.text);
  }
  if (u->ipv6 || (found->size() == 1 && found->front().text == u->host)) return std::string();  // an address already
  return u->host + ":" + std::to_string(u->port) + ":" + list;
}

std::string transport_error(const CurlApi& api, CURLcode code, const Body& body, const HttpPolicy& policy,
                            const std::string& host) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return host + ": no complete answer within " + seconds_text(policy.total) + " (--intensity-timeout)";
    case CURLE_COULDNT_CONNECT:
      return host + ": cannot connect";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return host + ": host not found (offline?)";
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return host + ": the answer was cut short";
    case CURLE_WRITE_ERROR:
      if (body.over) return host + ": the answer is larger than " + std::to_string(policy.max_body_bytes >> 20) + " MiB";
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
      return host + ": TLS verification failed (" + api.easy_strerror(code) + ")";
    default:
      break;
  }
  return host + ": " + api.easy_strerror(code);
}

bool retryable(long status) { return status == 429 || status >= 500; }

/// One attempt with what is left of the budget (until `deadline`).
Result<HttpResponse> attempt(const CurlApi& api, const HttpRequest& req, const HttpPolicy& policy,
                             std::chrono::steady_clock::time_point deadline, long& retry_after_s) {
  auto pinned = pinned_addresses(req.url, deadline, policy.total);
  if (!pinned) return Result<HttpResponse>::fail(pinned.error());
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  CURL* curl = api.easy_init();
  if (!curl) return Result<HttpResponse>::fail("cannot start an HTTP request (libcurl)");
  HttpResponse resp;
  Body body{&resp.body, policy.max_body_bytes};
  curl_slist* headers = nullptr;
  for (const auto& h : req.headers) headers = api.slist_append(headers, h.c_str());
  curl_slist* resolved = pinned->empty() ? nullptr : api.slist_append(nullptr, pinned->c_str());
  const std::string agent = user_agent();
  api.easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  if (resolved) api.easy_setopt(curl, CURLOPT_RESOLVE, resolved);
  // Plain http (loopback only) never goes through a proxy: the token would
  // cross the network in clear text to reach it.
  if (req.url.rfind("http://", 0) == 0) api.easy_setopt(curl, CURLOPT_NOPROXY, "*");
  api.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect must not carry a token elsewhere
  api.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  api.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads, and greenrun's own signal handling
  api.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, left.count())));
  api.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, std::min(left, policy.connect).count())));
  api.easy_setopt(curl, CURLOPT_USERAGENT, agent.c_str());
  api.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  api.easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  api.easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  if (!req.basic_user.empty()) {
    api.easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    api.easy_setopt(curl, CURLOPT_USERNAME, req.basic_user.c_str());
    api.easy_setopt(curl, CURLOPT_PASSWORD, req.basic_password.c_str());
  }
  const CURLcode code = api.easy_perform(curl);
  Result<HttpResponse> out = Result<HttpResponse>::fail(transport_error(api, code, body, policy, host_of(req.url)));
  if (code == CURLE_OK) {
    api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
    char* type = nullptr;
    if (api.easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) resp.content_type = type;
    curl_off_t after = -1;
    if (api.easy_getinfo(curl, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
      retry_after_s = static_cast<long>(after);
    out = std::move(resp);
  }
  api.slist_free_all(headers);
  api.slist_free_all(resolved);
  api.easy_cleanup(curl);
  return out;
}

}  // namespace

std::string user_agent() { return std::string("greenrun/") + kVersion; }

Result<Url> check_base_url(const std::string& url) {
  auto u = parse_url(url);
  if (!u) return u;
  if (u->scheme == "http" && !is_loopback_host(*u))
    return Result<Url>::fail(u->text() + " is not an https:// URL (plain http only to a loopback address: 127.0.0.1, [::1], localhost)");
  return u;
}

Result<HttpResponse> http_get(const HttpRequest& req, const HttpPolicy& policy) {
  using namespace std::chrono;
  const CurlApi& api = curl_api();
  if (!api.error.empty()) return Result<HttpResponse>::fail(api.error);
  const auto deadline = std::min(policy.deadline, steady_clock::now() + policy.total);
  for (int tries = 0;; ++tries) {
    const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) return Result<HttpResponse>::fail(host_of(req.url) + ": no answer in time");
    long retry_after_s = 0;
    auto r = attempt(api, req, policy, deadline, retry_after_s);
    if (!r || !retryable(r->status) || tries >= policy.retries) return r;
    const milliseconds wait = retry_after_s > 0 ? milliseconds(std::min<long>(retry_after_s, 5) * 1000)
                                                : milliseconds(1000 << tries);
    if (steady_clock::now() + wait >= deadline) return r;
    std::this_thread::sleep_for(wait);
  }
}

}  // namespace greenrun
