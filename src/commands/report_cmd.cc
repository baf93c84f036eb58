#include "commands/report_cmd.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands/output_paths.h"
#include "commands/subcommand.h"
#include "commands/options.h"
#include "report/merge.h"
#include "report/report.h"
#include "util/exit_codes.h"
#include "util/fs.h"
#include "util/input_file.h"
#include "util/output_target.h"
#include "util/escape.h"

namespace greenrun {

namespace {

// One report: its full page, read back from its JSON; several: the combined figures.
Result<std::string> html_for(const std::vector<std::string>& files, const MergedReport& m) {
  if (files.size() > 1) return format_merged_html(m);
  auto content = read_input_file(files[0], "", kMaxReportFileBytes);
  if (!content) return Result<std::string>::fail(content.error());
  auto j = nlohmann::json::parse(*content, nullptr, false);
  auto r = run_report_from_json(j, files[0]);
  if (!r) return Result<std::string>::fail(r.error());
  return format_html(*r);
}

Status write_html(const std::string& path, const std::vector<std::string>& files, const MergedReport& m) {
  auto target = OutputTarget::check(path, "--html");
  if (!target) return Status::fail(target.error());
  auto html = html_for(files, m);
  if (!html) return Status::fail(html.error());
  return target->write(*html);
}

}  // namespace

int report_command(const std::vector<std::string>& args) {
  CLI::App app{"greenrun report FILES...: several greenrun JSON reports (the steps of a CI job, repeated runs) in one",
               "greenrun report"};
  std::vector<std::string> files;
  std::string json_path, html_path;
  bool markdown = false;
  app.add_option("files", files, "greenrun JSON reports")->required()->type_name("FILE");
  app.add_flag("--markdown", markdown, "A Markdown summary (for a step summary or a PR comment)");
  app.add_option("--json", json_path, "Also write the combined figures as JSON to FILE")->type_name("FILE");
  app.add_option("--html", html_path,
                 "Also write an HTML page to FILE: one report's full page with its charts, or several reports combined")
      ->type_name("FILE");
  if (auto done = parse_subcommand(app, args, "report")) return *done;
  for (auto [option, path] : {std::pair{"--json", &json_path}, std::pair{"--html", &html_path}})
    if (auto expanded = expand_output_path(*path, real_env)) {
      *path = *expanded;
    } else {
      std::fprintf(stderr, "greenrun report: %s %s\n", option, expanded.error().c_str());
      return kExitGreenrunFailed;
    }
  std::vector<ReportFigures> runs;
  for (const auto& f : files) {
    auto r = load_report(f);
    if (!r) {
      std::fprintf(stderr, "greenrun report: %s\n", terminal_text(r.error()).c_str());
      return kExitGreenrunFailed;
    }
    runs.push_back(std::move(*r));
  }
  const MergedReport m = merge_reports(std::move(runs));
  if (!json_path.empty())
    if (auto st = atomic_write(json_path, merged_json(m).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
        !st) {
      std::fprintf(stderr, "greenrun report: %s\n", terminal_text(st.error()).c_str());
      return kExitGreenrunFailed;
    }
  if (!html_path.empty())
    if (auto st = write_html(html_path, files, m); !st) {
      std::fprintf(stderr, "greenrun report: %s\n", terminal_text(st.error()).c_str());
      return kExitGreenrunFailed;
    }
  if (html_path == "-") return 0;  // the page is standard output
  const std::string text = markdown ? format_merged_markdown(m) : format_merged(m);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace greenrun
