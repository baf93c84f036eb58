// --csv FILE: one row per run in CodeCarbon's emissions.csv layout, appended
// under flock so that parallel runs never interleave. A stream gets the
// header and the row.

#include <cstdio>

#include "outputs/sink.h"
#include "report/codecarbon_csv.h"
#include "sensors/hardware.h"
#include "util/fs.h"
#include "util/output_target.h"
#include "util/escape.h"

namespace greenrun {

namespace {

class CsvSink : public Sink {
 public:
  CsvSink(const SinkContext& ctx) : ctx_(ctx), path_(ctx.options.csv_path) {}

  Status preflight() override {
    auto t = OutputTarget::check(path_, "--csv");
    if (!t) return Status::fail(t.error());
    target_ = *t;
    if (target_.is_stream()) return {};  // never read from a pipe or a FIFO
    return check_codecarbon_csv(path_);
  }

  Status finish(const RunReport& r) override {
    if (r.status == "failed") return {};  // a command that never ran has no row
    CsvRunInfo info{ctx_.options.project, ctx_.options.experiment_id, random_uuid()};
    auto row = codecarbon_row(r, ctx_.hardware, *ctx_.data, info);
    if (target_.is_stream()) return target_.write(codecarbon_header() + "\n" + row + "\n");
    std::string backup;
    auto st = locked_append(path_, codecarbon_header(), row, &backup);
    if (st && !backup.empty())
      notice_ = path_ + " had another header (an older CodeCarbon layout?); kept as " + backup + ", new file started";
    return st;
  }
  std::string notice() const override { return notice_; }

 private:
  SinkContext ctx_;
  std::string path_;
  OutputTarget target_;
  std::string notice_;
};

}  // namespace

std::unique_ptr<Sink> make_csv_sink(const SinkContext& ctx) {
  if (ctx.options.csv_path.empty()) return nullptr;
  return std::make_unique<CsvSink>(ctx);
}

}  // namespace greenrun
