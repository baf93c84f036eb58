#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/units.h"

namespace greenrun {

namespace {

constexpr double kWidth = 960, kHeight = 300;
constexpr double kTop = 24, kBottom = 44, kLeft = 72;

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

/// Maps data to the plot's pixels (y grows downwards).
struct Frame {
  double x0, x1, y0, y1;  // plot area
  double t_max, v_max;
  double x(double t) const { return x0 + (x1 - x0) * (t_max > 0 ? std::clamp(t / t_max, 0.0, 1.0) : 0.0); }
  double y(double v) const { return y1 - (y1 - y0) * (v_max > 0 ? std::clamp(v / v_max, 0.0, 1.0) : 0.0); }
};

void point(std::string& d, const char* op, double x, double y) {
  d += op;
  d += fixed(x);
  d += ' ';
  d += fixed(y);
}

// A stacked step area: along the top of this series, back along the top of the ones below.
std::string area_path(const TimeChart& c, const Frame& f, const std::vector<double>& bottom, const std::vector<double>& top) {
  std::string d;
  const size_t n = top.size();
  d.reserve(n * 48);
  point(d, "M", f.x(c.starts[0]), f.y(bottom[0]));
  for (size_t i = 0; i < n; ++i) {
    point(d, " L", f.x(c.starts[i]), f.y(top[i]));
    point(d, " L", f.x(c.ends[i]), f.y(top[i]));
  }
  for (size_t i = n; i-- > 0;) {
    point(d, " L", f.x(c.ends[i]), f.y(bottom[i]));
    point(d, " L", f.x(c.starts[i]), f.y(bottom[i]));
  }
  return d + " Z";
}

std::string step_path(const TimeChart& c, const Frame& f, const std::vector<double>& v) {
  std::string d;
  d.reserve(v.size() * 24);
  point(d, "M", f.x(c.starts[0]), f.y(v[0]));
  for (size_t i = 0; i < v.size(); ++i) {
    point(d, " L", f.x(c.starts[i]), f.y(v[i]));
    point(d, " L", f.x(c.ends[i]), f.y(v[i]));
  }
  return d;
}

// Through each record's end, from zero at the start: a running total.
std::string line_path(const TimeChart& c, const Frame& f, const std::vector<double>& v) {
  std::string d;
  d.reserve(v.size() * 12);
  point(d, "M", f.x(c.starts[0]), f.y(0));
  for (size_t i = 0; i < v.size(); ++i) point(d, " L", f.x(c.ends[i]), f.y(v[i]));
  return d;
}

std::string series_element(const Series& s, const std::string& d, const char* kind, const std::string& extra_class = "") {
  return std::string("<path class=\"series ") + kind + " " + s.css + extra_class + "\" data-series=\"" +
         escape_html(s.name) + "\" data-points=\"" + std::to_string(s.values.size()) + "\" d=\"" + d + "\"><title>" +
         escape_html(s.name + (s.total.empty() ? "" : ": " + s.total)) + "</title></path>\n";
}

std::string text(double x, double y, const std::string& anchor, const std::string& content, const std::string& cls = "") {
  return "<text x=\"" + fixed(x) + "\" y=\"" + fixed(y) + "\" text-anchor=\"" + anchor + "\"" +
         (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" + escape_html(content) + "</text>";
}

std::string axes(const TimeChart& c, const Frame& f, const Frame& right) {
  std::string out = "<g class=\"axes\">";
  for (double v : nice_ticks(0, f.v_max, 5)) {
    out += "<line class=\"grid\" x1=\"" + fixed(f.x0) + "\" x2=\"" + fixed(f.x1) + "\" y1=\"" + fixed(f.y(v)) +
           "\" y2=\"" + fixed(f.y(v)) + "\"/>";
    out += text(f.x0 - 6, f.y(v) + 4, "end", tick_label(v));
  }
  if (c.right)
    for (double v : nice_ticks(0, right.v_max, 5)) out += text(f.x1 + 6, right.y(v) + 4, "start", tick_label(v), "right");
  const TimeUnit u = time_unit_for(f.t_max);
  for (double t : nice_ticks(0, f.t_max / u.seconds, 8)) {
    if (t * u.seconds > f.t_max * 1.0001) break;
    const double x = f.x(t * u.seconds);
    out += "<line class=\"tick\" x1=\"" + fixed(x) + "\" x2=\"" + fixed(x) + "\" y1=\"" + fixed(f.y1) + "\" y2=\"" +
           fixed(f.y1 + 5) + "\"/>";
    out += text(x, f.y1 + 18, "middle", tick_label(t));
  }
  out += "<line class=\"axis\" x1=\"" + fixed(f.x0) + "\" x2=\"" + fixed(f.x1) + "\" y1=\"" + fixed(f.y1) + "\" y2=\"" +
         fixed(f.y1) + "\"/>";
  out += text((f.x0 + f.x1) / 2, kHeight - 6, "middle", std::string("time since the start (") + u.name + ")", "title");
  out += text(f.x0 - 6, 14, "end", c.left_unit, "title");
  if (c.right) out += text(f.x1 + 6, 14, "start", c.right_unit, "title right");
  return out + "</g>\n";
}

std::string bands(const TimeChart& c, const Frame& f) {
  std::string out;
  for (size_t i = 0; i < c.bands.size(); ++i) {
    const auto& b = c.bands[i];
    const double x = f.x(b.start), w = std::max(1.0, f.x(b.end) - x);
    // Neighbouring phases alternate, with a line where each starts.
    out += "<line class=\"band-edge\" x1=\"" + fixed(x) + "\" x2=\"" + fixed(x) + "\" y1=\"" + fixed(f.y0) + "\" y2=\"" +
           fixed(f.y1) + "\"/>";
    out += std::string("<rect class=\"band") + (i % 2 ? " odd" : "") + "\" x=\"" + fixed(x) + "\" y=\"" + fixed(f.y0) + "\" width=\"" + fixed(w) + "\" height=\"" +
           fixed(f.y1 - f.y0) + "\"><title>" + escape_html(b.tooltip) + "</title></rect>";
    const size_t room = static_cast<size_t>(w / 7);
    if (room >= 4)
      out += text(x + 3, f.y0 + 12, "start", b.label.size() > room ? b.label.substr(0, room - 1) + "~" : b.label, "band-label");
  }
  return out.empty() ? out : "<g class=\"bands\">" + out + "</g>\n";
}

}  // namespace

std::string escape_html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int n) {
  std::vector<double> out;
  if (!(hi > lo) || n < 1) return {lo};
  const double raw = (hi - lo) / n;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  const double first = std::floor(lo / step) * step;
  for (int i = 0; i <= n + 2; ++i) {
    const double v = first + i * step;
    out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    if (v >= hi - step * 1e-9) break;
  }
  return out;
}

std::string tick_label(double v) {
  if (v == 0) return "0";
  std::string s = significant(v, 3);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

TimeUnit time_unit_for(double span_s) {
  if (span_s <= 180) return {1, "s"};
  if (span_s <= 3 * 3600) return {60, "min"};
  if (span_s <= 3 * 86400) return {3600, "h"};
  return {86400, "days"};
}

std::string svg_time_chart(const TimeChart& c) {
  const size_t n = c.starts.size();
  std::string out = "<svg class=\"chart\" id=\"" + escape_html(c.id) + "\" viewBox=\"0 0 " + fixed(kWidth) + " " +
                    fixed(kHeight) + "\" role=\"img\" aria-label=\"" + escape_html(c.label) + "\">\n";
  if (n == 0 || c.ends.size() != n) return out + text(kWidth / 2, kHeight / 2, "middle", "no timeline records") + "</svg>\n";
  Frame f{kLeft, kWidth - (c.right ? kLeft : 24), kTop, kHeight - kBottom, c.ends.back(), 0};
  std::vector<std::vector<double>> tops;
  std::vector<double> sum(n, 0.0);
  for (const auto& s : c.left) {
    for (size_t i = 0; i < n && i < s.values.size(); ++i) sum[i] = c.lines ? s.values[i] : sum[i] + s.values[i];
    tops.push_back(sum);
    for (double v : sum) f.v_max = std::max(f.v_max, v);
    if (c.lines) std::fill(sum.begin(), sum.end(), 0.0);
  }
  f.v_max = f.v_max > 0 ? nice_ticks(0, f.v_max, 5).back() : 1.0;
  Frame right = f;
  right.v_max = 0;
  if (c.right)
    for (double v : c.right->values) right.v_max = std::max(right.v_max, v);
  right.v_max = right.v_max > 0 ? nice_ticks(0, right.v_max, 5).back() : 1.0;

  out += bands(c, f);
  out += axes(c, f, right);
  std::vector<double> bottom(n, 0.0);
  for (size_t k = 0; k < c.left.size(); ++k) {
    if (c.lines) {
      out += series_element(c.left[k], line_path(c, f, tops[k]), "line");
    } else {
      out += series_element(c.left[k], area_path(c, f, bottom, tops[k]), "area");
      bottom = tops[k];
    }
  }
  if (c.right && c.right->values.size() == n)
    out += series_element(*c.right, c.lines ? line_path(c, right, c.right->values) : step_path(c, right, c.right->values),
                          "line", " right");
  return out + "</svg>\n";
}

std::string svg_bar_chart(const std::string& id, const std::string& label, const std::vector<Bar>& bars) {
  constexpr double kRow = 24, kLabelW = 330, kValueW = 170;
  constexpr size_t kLabelChars = 46;  // what fits left of the bars at 12 px
  const double height = kRow * static_cast<double>(bars.size()) + 8;
  double max = 0;
  for (const auto& b : bars) max = std::max(max, b.value);
  std::string out = "<svg class=\"chart bars\" id=\"" + escape_html(id) + "\" viewBox=\"0 0 " + fixed(kWidth) + " " +
                    fixed(height) + "\" role=\"img\" aria-label=\"" + escape_html(label) + "\">\n";
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double y = 4 + kRow * static_cast<double>(i);
    const double w = max > 0 ? std::max(1.0, (kWidth - kLabelW - kValueW) * b.value / max) : 1.0;
    const std::string label = b.label.size() > kLabelChars ? b.label.substr(0, kLabelChars - 1) + "~" : b.label;
    out += text(kLabelW - 8, y + 16, "end", label, b.highlight ? "here" : "");
    out += "<rect class=\"bar" + std::string(b.highlight ? " here" : "") + "\" x=\"" + fixed(kLabelW) + "\" y=\"" +
           fixed(y + 3) + "\" width=\"" + fixed(w) + "\" height=\"" + fixed(kRow - 6) + "\"><title>" +
           escape_html(b.label + ": " + b.value_text) + "</title></rect>";
    out += text(kLabelW + w + 6, y + 16, "start", b.value_text, b.highlight ? "here" : "") + "\n";
  }
  return out + "</svg>\n";
}

}  // namespace greenrun
