//===- Svg.h - A small SVG writer for gradc's pictures ---------*- C++ -*-===//
//
// Builds an SVG document as text. Every piece of text that reaches the
// document goes through xmlEscape, because parameter and file names come
// from the user's files and may hold '<', '&' or quotes.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_PLOT_SVG_H
#define GRADC_PLOT_SVG_H

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace gradc {

// Escapes &, <, >, " and ' and drops control characters, which XML 1.0
// does not allow even as references.
std::string xmlEscape(const std::string &text);

// Formats a coordinate with two decimals, enough for a screen picture.
std::string svgNumber(double value);

class SvgWriter {
public:
  SvgWriter(double width, double height);

  void line(double x1, double y1, double x2, double y2,
            const std::string &stroke, double width,
            const std::string &dash = "");
  void rect(double x, double y, double w, double h, const std::string &fill,
            const std::string &stroke);
  // One path through the points; a break in the line (a point that cannot
  // be drawn) starts a new subpath so that nothing is joined across it.
  void seriesPath(
      const std::vector<std::vector<std::pair<double, double>>> &segments,
      const std::string &stroke, double width, const std::string &cssClass,
      const std::string &label);
  // A cross, the marker of a norm that cannot sit on a log axis.
  void cross(double x, double y, double size, const std::string &stroke);
  void circle(double x, double y, double r, const std::string &fill);
  // text is plain text and is escaped here; anchor is start/middle/end.
  void text(double x, double y, const std::string &text, double size,
            const std::string &anchor = "start", const std::string &extra = "");
  // Writes raw, already-escaped markup (used for tick labels with
  // superscripts).
  void raw(const std::string &markup);

  std::string finish();

private:
  std::ostringstream body_;
  double width_;
  double height_;
};

} // namespace gradc

#endif // GRADC_PLOT_SVG_H
