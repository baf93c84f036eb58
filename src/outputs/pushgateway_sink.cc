// --pushgateway URL: the metrics pushed to a Prometheus Pushgateway at every
// checkpoint and at the end, grouped by job "greenrun", instance (the host)
// and the run's identity (run, the Slurm task, the --label pairs: the labels
// every series carries), so that concurrent runs on one host keep their own
// groups. Checkpoint pushes run on a
// thread of their own and are skipped while one is still in flight; the last
// push waits at most kTimeoutS. A dead or slow gateway costs a line on
// stderr, never the command's time or status.

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "outputs/sink.h"
#include "util/escape.h"
#include "util/plain_http.h"

namespace greenrun {

namespace {

constexpr double kTimeoutS = 2.0;
constexpr const char* kContentType = "text/plain; version=0.0.4";

class PushgatewaySink : public Sink {
 public:
  explicit PushgatewaySink(const OutputOptions& o) : o_(o) {}

  Status preflight() override {
    auto url = parse_http_url(o_.pushgateway);
    if (!url) return Status::fail("--pushgateway " + url.error());
    url_ = *url;
    return {};
  }
  bool checkpoints() const override { return true; }

  Status checkpoint(const RunReport& r) override {
    if (busy_->exchange(true)) return {};  // the previous push is still on its way
    std::thread([busy = busy_, url = url_, path = group(r), body = format_metrics(r, false, run_identity(o_.metrics_path, o_.labels, r))] {
      (void)http_request(url, "PUT", path, body, kContentType, kTimeoutS);
      busy->store(false);
    }).detach();
    return {};
  }

  Status finish(const RunReport& r) override {
    if (r.status == "failed") return {};
    auto status = http_request(url_, "PUT", group(r), format_metrics(r, false, run_identity(o_.metrics_path, o_.labels, r)), kContentType, kTimeoutS);
    if (!status) return Status::fail("--pushgateway: " + status.error() + "; the metrics were not pushed");
    if (*status < 200 || *status >= 300)
      return Status::fail("--pushgateway: the gateway answered HTTP " + std::to_string(*status) + "; the metrics were not pushed");
    return {};
  }

 private:
  // /metrics/job/greenrun/instance@base64/HOST/run@base64/RUN[/LABEL@base64/VALUE...]
  std::string group(const RunReport& r) const {
    std::string path = "/metrics/job/greenrun/instance@base64/" + base64url(valid_utf8(r.host));
    for (const auto& [k, v] : run_identity(o_.metrics_path, o_.labels, r)) path += "/" + k + "@base64/" + base64url(valid_utf8(v));
    return path;
  }

  const OutputOptions& o_;
  HttpUrl url_;
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace

std::unique_ptr<Sink> make_pushgateway_sink(const SinkContext& ctx) {
  if (ctx.options.pushgateway.empty()) return nullptr;
  return std::make_unique<PushgatewaySink>(ctx.options);
}

}  // namespace greenrun
