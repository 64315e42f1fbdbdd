//===- GradPlot.cpp - `gradc plot`: a gradient-norm log as SVG
//-------------===//
//
// See GradPlot.h. Both panels share one log-scale y axis so that a norm
// reads the same in each. Norms that a log axis cannot show (zero, NaN,
// infinity) are drawn as crosses in a band under the axis rather than
// being dropped or stretching the scale.
//
//===----------------------------------------------------------------------===//
#include "plot/GradPlot.h"

#include "frontend/Diagnostics.h"
#include "plot/Svg.h"

#include <gradc/printable.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace gradc {
namespace {

const char *const kHeader = "step,param,grad_norm,weight_norm,flag";

// A piece of the user's file quoted in a diagnostic: its first 60 bytes,
// escaped here already, since a NUL would end the message's text.
std::string excerpt(const std::string &text) {
  std::string out = printable(std::string_view(text).substr(0, 60));
  if (text.size() > 60)
    out += "...";
  return out;
}

double parseNorm(const std::string &field, const SourceLoc &loc,
                 const char *column) {
  if (field.empty())
    userError(loc, std::string("empty ") + column + " field",
              "norms are numbers such as 0.0123, 1e-08, nan or inf");
  const char *begin = field.c_str();
  char *end = nullptr;
  errno = 0;
  double value = std::strtod(begin, &end);
  if (end != begin + field.size() || std::isspace((unsigned char)field[0]))
    userError(loc,
              std::string(column) + " '" + excerpt(field) + "' is not a number",
              "norms are numbers such as 0.0123, 1e-08, nan or inf");
  // An underflow to zero or a denormal is still a norm the log can hold.
  if (value < 0)
    userError(loc, std::string(column) + " " + excerpt(field) +
                       " is negative; a norm is never below 0");
  return value;
}

long long parseStep(const std::string &field, const SourceLoc &loc) {
  bool digits = !field.empty() && field.size() <= 18 &&
                std::all_of(field.begin(), field.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  if (!digits)
    userError(loc, "step '" + excerpt(field) +
                       "' is not a whole number of training steps");
  return std::stoll(field);
}

} // namespace

GradLog parseGradLog(const std::string &text, const std::string &file) {
  GradLog log;
  log.file = file;
  std::vector<std::string> lines;
  {
    std::string current;
    for (char c : text) {
      if (c == '\n') {
        lines.push_back(current);
        current.clear();
      } else {
        current += c;
      }
    }
    if (!current.empty())
      lines.push_back(current);
  }
  for (auto &line : lines)
    if (!line.empty() && line.back() == '\r')
      line.pop_back();

  if (lines.empty() || (lines.size() == 1 && lines[0].empty()))
    userError(SourceLoc{file, 0, 0},
              "the gradient log is empty; expected the header '" +
                  std::string(kHeader) + "'",
              "the trainer writes it with --grad-log FILE.csv");
  if (lines[0] != kHeader) {
    size_t column = 0;
    const std::string &header = lines[0];
    while (column < header.size() && kHeader[column] != '\0' &&
           header[column] == kHeader[column])
      ++column;
    userError(SourceLoc{file, 1, static_cast<int>(column) + 1},
              "expected the header '" + std::string(kHeader) + "' but found '" +
                  excerpt(header) + "'",
              "this is not a gradient-norm log written by --grad-log");
  }

  for (size_t index = 1; index < lines.size(); ++index) {
    const std::string &line = lines[index];
    int lineNo = static_cast<int>(index) + 1;
    if (line.empty())
      continue;
    std::vector<std::string> fields;
    std::vector<int> starts;
    size_t begin = 0;
    while (true) {
      size_t comma = line.find(',', begin);
      starts.push_back(static_cast<int>(begin) + 1);
      if (comma == std::string::npos) {
        fields.push_back(line.substr(begin));
        break;
      }
      fields.push_back(line.substr(begin, comma - begin));
      begin = comma + 1;
    }
    if (fields.size() != 5) {
      int column =
          fields.size() > 5 ? starts[5] - 1 : static_cast<int>(line.size()) + 1;
      userError(SourceLoc{file, lineNo, column},
                "expected 5 fields (" + std::string(kHeader) + ") but found " +
                    std::to_string(fields.size()));
    }
    GradLogRow row;
    row.line = lineNo;
    row.step = parseStep(fields[0], SourceLoc{file, lineNo, starts[0]});
    if (fields[1].empty())
      userError(SourceLoc{file, lineNo, starts[1]}, "empty param field");
    row.param = fields[1];
    row.gradNorm =
        parseNorm(fields[2], SourceLoc{file, lineNo, starts[2]}, "grad_norm");
    row.weightNorm =
        parseNorm(fields[3], SourceLoc{file, lineNo, starts[3]}, "weight_norm");
    row.flag = fields[4];
    log.rows.push_back(std::move(row));
  }

  if (log.rows.empty())
    userError(SourceLoc{file, 0, 0},
              "the gradient log has a header but no rows",
              "training logs every --grad-every steps; a run shorter than "
              "that logs nothing");
  bool anyParam =
      std::any_of(log.rows.begin(), log.rows.end(), [](const GradLogRow &row) {
        return row.param != "__global__";
      });
  if (!anyParam)
    userError(SourceLoc{file, 0, 0},
              "the gradient log has only __global__ rows and no parameter");
  return log;
}

GradLog readGradLog(const std::string &path) {
  std::error_code ignored;
  // A folder opens as a stream that reads nothing, which would pass for
  // an empty log.
  if (std::filesystem::is_directory(path, ignored))
    userError(SourceLoc{path, 0, 0},
              "this is a folder, not a gradient log (a CSV file)");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    userError(SourceLoc{path, 0, 0}, std::string("cannot read the gradient "
                                                 "log: ") +
                                         std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    userError(SourceLoc{path, 0, 0}, "cannot read the gradient log");
  return parseGradLog(text.str(), path);
}

namespace {

// Samples viridis, a sequential map that stays ordered and readable in
// grey; the bright yellow end is cut because it vanishes on white.
std::string layerColour(size_t index, size_t count) {
  static const int anchors[9][3] = {
      {0x44, 0x01, 0x54}, {0x47, 0x2d, 0x7b}, {0x3b, 0x52, 0x8b},
      {0x2c, 0x72, 0x8e}, {0x21, 0x91, 0x8c}, {0x28, 0xae, 0x80},
      {0x5e, 0xc9, 0x62}, {0xad, 0xdc, 0x30}, {0xfd, 0xe7, 0x25}};
  double t = count <= 1 ? 0.0 : 0.85 * index / (count - 1.0);
  double position = t * 8;
  int low = std::min(7, static_cast<int>(position));
  double frac = position - low;
  char buffer[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(std::lround(
        anchors[low][c] + frac * (anchors[low + 1][c] - anchors[low][c])));
  std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buffer;
}

// Distinct hues for the few steps of the depth panel.
const char *stepColour(size_t index) {
  static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c",
                                        "#ff7f0e", "#9467bd", "#8c564b",
                                        "#e377c2", "#17becf"};
  return palette[index % 8];
}

bool drawable(double norm) { return std::isfinite(norm) && norm > 0; }

bool isBias(const std::string &param) {
  const std::string suffix = ".bias";
  return param.size() >= suffix.size() &&
         param.compare(param.size() - suffix.size(), suffix.size(), suffix) ==
             0;
}

std::string shortName(const std::string &name, size_t limit) {
  if (name.size() <= limit)
    return name;
  // Cut before a UTF-8 continuation byte, not inside a character.
  size_t cut = limit - 3;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xc0) == 0x80)
    --cut;
  return name.substr(0, cut) + "...";
}

std::string formatNumber(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// 10 with the exponent raised, as tick labels on log axes read.
std::string powerOfTen(int exponent) {
  std::string digits = std::to_string(exponent < 0 ? -exponent : exponent);
  std::string sign = exponent < 0 ? "\u2212" : "";
  return "10<tspan dy=\"-6\" font-size=\"9\">" + sign + digits + "</tspan>";
}

// Round steps for a linear axis: 1, 2 or 5 times a power of ten.
double niceStep(double span, int wanted) {
  double raw = span / wanted;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (factor * power >= raw)
      return factor * power;
  return 10 * power;
}

struct Frame {
  double left, top, width, height;
  // The log axis covers [top, top + logHeight]; the band for norms it
  // cannot show lies under it.
  double logHeight;
  double xMin, xMax;
  int decadeLow, decadeHigh;

  double x(double value) const {
    return left + (value - xMin) / (xMax - xMin) * width;
  }
  double y(double norm) const {
    double t = (std::log10(norm) - decadeLow) / (decadeHigh - decadeLow);
    return top + logHeight * (1 - t);
  }
  double bandY() const { return top + height - 12; }
};

void drawLogAxis(SvgWriter &svg, const Frame &frame, const std::string &label) {
  svg.rect(frame.left, frame.top, frame.width, frame.height, "none", "#444");
  svg.rect(frame.left, frame.top + frame.logHeight + 2, frame.width,
           frame.height - frame.logHeight - 2, "#f1f1f1", "none");
  int span = frame.decadeHigh - frame.decadeLow;
  int every = std::max(1, (span + 9) / 10);
  for (int exponent = frame.decadeLow; exponent <= frame.decadeHigh;
       ++exponent) {
    if ((exponent - frame.decadeLow) % every != 0)
      continue;
    double y = frame.y(std::pow(10.0, exponent));
    svg.line(frame.left, y, frame.left + frame.width, y, "#e0e0e0", 1);
    svg.line(frame.left - 5, y, frame.left, y, "#444", 1);
    svg.raw("<text class=\"ytick\" x=\"" + svgNumber(frame.left - 8) +
            "\" y=\"" + svgNumber(y + 4) +
            "\" font-size=\"12\" text-anchor=\"end\">" + powerOfTen(exponent) +
            "</text>\n");
  }
  svg.text(frame.left - 8, frame.bandY() + 4, "nan/inf/0", 10, "end",
           "fill=\"#b00\"");
  double middle = frame.top + frame.logHeight / 2;
  svg.text(frame.left - 58, middle, label, 13, "middle",
           "transform=\"rotate(-90 " + svgNumber(frame.left - 58) + " " +
               svgNumber(middle) + ")\"");
}

void drawThresholds(SvgWriter &svg, const Frame &frame,
                    const PlotOptions &options) {
  svg.line(frame.left, frame.y(options.vanishingBelow),
           frame.left + frame.width, frame.y(options.vanishingBelow), "#555",
           1.5, "8,5");
  svg.line(frame.left, frame.y(options.explodingAbove),
           frame.left + frame.width, frame.y(options.explodingAbove), "#b00",
           1.5, "3,4");
}

struct LegendEntry {
  std::string label;
  std::string colour;
  // line, dash, cross or dot
  std::string kind;
  std::string dash;
};

void drawLegend(SvgWriter &svg, double x, double y, const std::string &title,
                const std::vector<LegendEntry> &entries) {
  svg.text(x, y, title, 12, "start", "font-weight=\"bold\"");
  double rowY = y + 17;
  for (const auto &entry : entries) {
    if (entry.kind == "cross") {
      svg.cross(x + 12, rowY - 4, 4, entry.colour);
    } else {
      svg.line(x, rowY - 4, x + 24, rowY - 4, entry.colour,
               entry.kind == "line" ? 2.5 : 1.5, entry.dash);
      if (entry.kind == "dot")
        svg.circle(x + 12, rowY - 4, 3, entry.colour);
    }
    svg.raw("<text class=\"legend\" x=\"" + svgNumber(x + 30) + "\" y=\"" +
            svgNumber(rowY) + "\" font-size=\"11\">" + xmlEscape(entry.label) +
            "</text>\n");
    rowY += 15;
  }
}

struct ChosenStep {
  long long step;
  std::string label;
};

std::vector<ChosenStep> chooseSteps(const std::vector<long long> &logged,
                                    const std::string &spec) {
  std::vector<std::string> tokens;
  if (spec.empty()) {
    tokens = {"first", "middle", "last"};
  } else {
    std::string token;
    std::istringstream in(spec);
    while (std::getline(in, token, ','))
      tokens.push_back(token);
  }
  std::vector<ChosenStep> chosen;
  for (const auto &token : tokens) {
    long long step;
    std::string label;
    if (token == "first") {
      step = logged.front();
    } else if (token == "last") {
      step = logged.back();
    } else if (token == "middle") {
      step = logged[(logged.size() - 1) / 2];
    } else {
      bool digits = !token.empty() && token.size() <= 18 &&
                    std::all_of(token.begin(), token.end(),
                                [](char c) { return c >= '0' && c <= '9'; });
      if (!digits)
        userError(SourceLoc{"gradc", 0, 0},
                  "--steps: '" + excerpt(token) +
                      "' is not a step number, first, middle or last",
                  "for example --steps 1,100,last");
      long long wanted = std::stoll(token);
      auto it = std::lower_bound(logged.begin(), logged.end(), wanted);
      if (it == logged.end() ||
          (it != logged.begin() && wanted - *(it - 1) <= *it - wanted))
        --it;
      step = *it;
      if (step != wanted)
        label = " (nearest logged to " + token + ")";
    }
    bool seen =
        std::any_of(chosen.begin(), chosen.end(),
                    [&](const ChosenStep &c) { return c.step == step; });
    if (!seen)
      chosen.push_back({step, "step " + std::to_string(step) + label});
  }
  return chosen;
}

std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

std::string renderGradPlot(const GradLog &log, const PlotOptions &options) {
  // Parameters in the order of their first row, which is layer order.
  std::vector<std::string> params;
  std::map<std::string, size_t> paramIndex;
  bool anyWeight =
      std::any_of(log.rows.begin(), log.rows.end(), [](const GradLogRow &row) {
        return row.param != "__global__" && !isBias(row.param);
      });
  bool biases = options.includeBiases || !anyWeight;
  std::vector<long long> logged;
  for (const auto &row : log.rows) {
    logged.push_back(row.step);
    if (row.param == "__global__" || (!biases && isBias(row.param)))
      continue;
    if (paramIndex.emplace(row.param, params.size()).second)
      params.push_back(row.param);
  }
  std::sort(logged.begin(), logged.end());
  logged.erase(std::unique(logged.begin(), logged.end()), logged.end());

  // series[p][step] = gradient norm; a repeated row replaces the earlier.
  std::vector<std::map<long long, double>> series(params.size());
  double lowest = INFINITY, highest = 0;
  size_t badCount = 0;
  for (const auto &row : log.rows) {
    auto found = paramIndex.find(row.param);
    if (found == paramIndex.end())
      continue;
    series[found->second][row.step] = row.gradNorm;
    if (drawable(row.gradNorm)) {
      lowest = std::min(lowest, row.gradNorm);
      highest = std::max(highest, row.gradNorm);
    } else {
      ++badCount;
    }
  }
  // The thresholds stay on the axis, so that the distance to them shows.
  for (double threshold : {options.vanishingBelow, options.explodingAbove}) {
    lowest = std::min(lowest, threshold);
    highest = std::max(highest, threshold);
  }

  std::vector<ChosenStep> chosen = chooseSteps(logged, options.steps);

  Frame frame{};
  frame.left = 95;
  frame.width = 680;
  // The margins keep a norm or threshold on a decade off the frame.
  frame.decadeLow = static_cast<int>(std::floor(std::log10(lowest) - 0.3));
  frame.decadeHigh = static_cast<int>(std::ceil(std::log10(highest) + 0.3));
  if (frame.decadeHigh <= frame.decadeLow)
    frame.decadeHigh = frame.decadeLow + 1;

  const double legendX = frame.left + frame.width + 25;
  const double width = legendX + 300;
  size_t legendRows1 = params.size() + 3;
  double height1 = std::max(380.0, 17.0 + 15.0 * legendRows1);
  size_t legendRows2 = chosen.size() + 3;
  double height2 = std::max(340.0, 17.0 + 15.0 * legendRows2);
  const double top1 = 80;
  const double top2 = top1 + height1 + 95;
  const double totalHeight = top2 + height2 + 70;

  SvgWriter svg(width, totalHeight);
  std::string title =
      options.title.empty() ? baseName(log.file) : options.title;
  svg.text(width / 2, 28, "Gradient norms per layer: " + title, 18, "middle",
           "font-weight=\"bold\"");
  std::string what = biases ? "weights and biases" : "weights only";
  svg.text(width / 2, 50,
           std::to_string(params.size()) + " parameters (" + what +
               "), logged steps " + std::to_string(logged.front()) + " to " +
               std::to_string(logged.back()) + "; one line per layer, " +
               "dark = input side, light = output side",
           12, "middle", "fill=\"#333\"");

  std::vector<LegendEntry> thresholdEntries = {
      {"vanishing below " + formatNumber(options.vanishingBelow), "#555",
       "dash", "8,5"},
      {"exploding above " + formatNumber(options.explodingAbove), "#b00",
       "dash", "3,4"},
      {"nan, inf or 0 (" + std::to_string(badCount) + " in log), in band",
       "#666", "cross", ""}};

  // Panel 1: each parameter's norm over the steps.
  frame.top = top1;
  frame.height = height1;
  frame.logHeight = height1 - 26;
  frame.xMin = static_cast<double>(logged.front());
  frame.xMax = static_cast<double>(logged.back());
  if (frame.xMax <= frame.xMin)
    frame.xMax = frame.xMin + 1;
  svg.text(frame.left, top1 - 10, "(a) gradient norm over training", 14,
           "start", "font-weight=\"bold\"");
  drawLogAxis(svg, frame, "gradient L2 norm (log scale)");
  double tick = niceStep(frame.xMax - frame.xMin, 6);
  for (double value = std::ceil(frame.xMin / tick) * tick;
       value <= frame.xMax + tick * 1e-9; value += tick) {
    double x = frame.x(value);
    svg.line(x, frame.top + frame.height, x, frame.top + frame.height + 5,
             "#444", 1);
    svg.text(x, frame.top + frame.height + 18, formatNumber(value), 11,
             "middle", "class=\"xtick\"");
  }
  svg.text(frame.left + frame.width / 2, frame.top + frame.height + 38,
           "training step (optimizer updates)", 13, "middle");
  drawThresholds(svg, frame, options);
  std::vector<LegendEntry> layerEntries;
  for (size_t p = 0; p < params.size(); ++p) {
    std::string colour = layerColour(p, params.size());
    std::vector<std::vector<std::pair<double, double>>> segments(1);
    for (const auto &[step, norm] : series[p]) {
      double x = frame.x(static_cast<double>(step));
      if (drawable(norm)) {
        segments.back().emplace_back(x, frame.y(norm));
      } else {
        // Staggered, so that layers failing at one step stay apart.
        svg.cross(x, frame.bandY() + 5.0 * (static_cast<int>(p % 3) - 1), 4,
                  colour);
        if (!segments.back().empty())
          segments.emplace_back();
      }
    }
    if (segments.back().empty())
      segments.pop_back();
    svg.seriesPath(segments, colour, 1.8, "series", params[p]);
    layerEntries.push_back({std::to_string(p) + "  " + shortName(params[p], 34),
                            colour, "line", ""});
  }
  layerEntries.insert(layerEntries.end(), thresholdEntries.begin(),
                      thresholdEntries.end());
  drawLegend(svg, legendX, top1 + 4, "layer (input to output)", layerEntries);

  // Panel 2: norm against depth at the chosen steps.
  frame.top = top2;
  frame.height = height2;
  frame.logHeight = height2 - 26;
  frame.xMin = 0;
  frame.xMax = params.size() > 1 ? static_cast<double>(params.size() - 1) : 1.0;
  svg.text(frame.left, top2 - 10, "(b) gradient norm against depth", 14,
           "start", "font-weight=\"bold\"");
  drawLogAxis(svg, frame, "gradient L2 norm (log scale)");
  int every = std::max<int>(1, static_cast<int>((params.size() + 14) / 15));
  for (size_t p = 0; p < params.size(); p += every) {
    double x = frame.x(static_cast<double>(p));
    svg.line(x, frame.top + frame.height, x, frame.top + frame.height + 5,
             "#444", 1);
    svg.text(x, frame.top + frame.height + 18, std::to_string(p), 11, "middle",
             "class=\"xtick\"");
  }
  svg.text(frame.left + frame.width / 2, frame.top + frame.height + 38,
           "layer index, input (0) to output (" +
               std::to_string(params.size() - 1) +
               "), numbered as in the legend of (a)",
           13, "middle");
  drawThresholds(svg, frame, options);
  std::vector<LegendEntry> stepEntries;
  for (size_t s = 0; s < chosen.size(); ++s) {
    std::string colour = stepColour(s);
    std::vector<std::vector<std::pair<double, double>>> segments(1);
    for (size_t p = 0; p < params.size(); ++p) {
      auto found = series[p].find(chosen[s].step);
      if (found == series[p].end()) {
        if (!segments.back().empty())
          segments.emplace_back();
        continue;
      }
      double x = frame.x(static_cast<double>(p));
      if (drawable(found->second)) {
        segments.back().emplace_back(x, frame.y(found->second));
        svg.circle(x, frame.y(found->second), 3, colour);
      } else {
        svg.cross(x, frame.bandY(), 4, colour);
        if (!segments.back().empty())
          segments.emplace_back();
      }
    }
    if (segments.back().empty())
      segments.pop_back();
    svg.seriesPath(segments, colour, 2, "depth", chosen[s].label);
    stepEntries.push_back({chosen[s].label, colour, "dot", ""});
  }
  stepEntries.insert(stepEntries.end(), thresholdEntries.begin(),
                     thresholdEntries.end());
  drawLegend(svg, legendX, top2 + 4, "logged step", stepEntries);
  return svg.finish();
}

} // namespace gradc
