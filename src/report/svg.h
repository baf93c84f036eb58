#pragma once
// Inline SVG charts for the HTML report, generated here (no chart library, no
// script): a time chart (stacked step areas, lines, a second axis, shaded
// bands) and a horizontal bar chart. Colours come from the page's CSS classes,
// so the light, dark and print styles apply; every text is escaped.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace greenrun {

/// Text for HTML and SVG: & < > " ' escaped.
std::string escape_html(std::string_view s);

/// About `n` "nice" tick values (1, 2 or 5 x 10^k apart) from 0 or `lo` to at least `hi`.
std::vector<double> nice_ticks(double lo, double hi, int n);

/// A number as a tick label: at most 3 significant digits, no exponent, no trailing zeros.
std::string tick_label(double v);

/// The unit a time axis is labelled in for a span: seconds, minutes, hours or days.
struct TimeUnit {
  double seconds;     // 1, 60, 3600, 86400
  const char* name;   // "s", "min", "h", "days"
};
TimeUnit time_unit_for(double span_s);

/// One series over the timeline's records (values per record, already in the axis' unit).
struct Series {
  std::string name;      // for the legend and the tooltip
  std::string css;       // s0..s7: the colour; plus "estimated" where it is
  std::vector<double> values;
  std::string total;     // shown in the tooltip: "41.2 J"
};

struct TimeChart {
  std::string id, label;             // the element id and its accessible name
  std::vector<double> starts, ends;  // each record's span, seconds from the origin
  /// Left axis: stacked step areas (power), or, when `lines` is set, lines
  /// through each record's end (cumulative figures).
  std::vector<Series> left;
  bool lines = false;
  std::string left_unit;
  /// Right axis, optional: a step line (grid intensity) or a line (cumulative emissions).
  std::optional<Series> right;
  std::string right_unit;
  struct Band {
    double start, end;
    std::string label, tooltip;
  };
  std::vector<Band> bands;  // shaded spans behind the series (phases)
};

/// The chart as an <svg> element. Each series is one <path class="series">
/// with data-series (its name) and data-points (its records).
std::string svg_time_chart(const TimeChart& c);

struct Bar {
  std::string label, value_text;
  double value = 0;
  bool highlight = false;  // this run's own row
};

/// Horizontal bars scaled to the largest value, one <rect class="bar"> each.
std::string svg_bar_chart(const std::string& id, const std::string& label, const std::vector<Bar>& bars);

}  // namespace greenrun
