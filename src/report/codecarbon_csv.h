#pragma once
// One row per run in CodeCarbon's emissions.csv layout (CodeCarbon 3.3.0, 38
// columns, with its meaning of each: see man greenrun, CSV), so that
// dashboards built for CodeCarbon read greenrun's files.

#include <string>
#include <vector>

#include "carbon/carbon_data.h"
#include "sensors/hardware.h"
#include "report/report.h"
#include "util/result.h"

namespace greenrun {

const std::vector<std::string>& codecarbon_columns();
std::string codecarbon_header();

struct CsvRunInfo {
  std::string project = "greenrun";
  std::string experiment_id;
  std::string run_id;
};

/// The row for a finished run (no trailing newline). Units as CodeCarbon:
/// duration in s, emissions in kg, powers in W, energies in kWh.
std::string codecarbon_row(const RunReport& r, const Hardware& host, const CarbonData* data, const CsvRunInfo& info);

/// Before the command starts: the file can be written. (A file with another
/// header is backed up, not refused: see locked_append.)
Status check_codecarbon_csv(const std::string& path);

}  // namespace greenrun
