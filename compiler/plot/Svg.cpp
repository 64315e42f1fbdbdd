//===- Svg.cpp - A small SVG writer for gradc's pictures
//-------------------===//
//
// See Svg.h.
//
//===----------------------------------------------------------------------===//
#include "plot/Svg.h"

#include <cmath>
#include <cstdio>

namespace gradc {

// The length of the well-formed UTF-8 sequence at text[at], or 0.
static size_t utf8Length(const std::string &text, size_t at) {
  unsigned char lead = static_cast<unsigned char>(text[at]);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xe  ? 3
                  : (lead >> 3) == 0x1e ? 4
                                        : 0;
  if (length == 0 || at + length > text.size())
    return 0;
  for (size_t i = 1; i < length; ++i)
    if ((static_cast<unsigned char>(text[at + i]) & 0xc0) != 0x80)
      return 0;
  return length;
}

std::string xmlEscape(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    char c = text[at];
    size_t length = utf8Length(text, at);
    // Bytes that are not UTF-8 would make the whole document unreadable.
    if (length == 0) {
      out += '?';
      ++at;
      continue;
    }
    if (length > 1) {
      out.append(text, at, length);
      at += length;
      continue;
    }
    ++at;
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
        out += '?';
      else
        out += c;
    }
  }
  return out;
}

std::string svgNumber(double value) {
  if (!std::isfinite(value))
    value = 0;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

SvgWriter::SvgWriter(double width, double height)
    : width_(width), height_(height) {}

void SvgWriter::line(double x1, double y1, double x2, double y2,
                     const std::string &stroke, double width,
                     const std::string &dash) {
  body_ << "<line x1=\"" << svgNumber(x1) << "\" y1=\"" << svgNumber(y1)
        << "\" x2=\"" << svgNumber(x2) << "\" y2=\"" << svgNumber(y2)
        << "\" stroke=\"" << stroke << "\" stroke-width=\"" << width << "\"";
  if (!dash.empty())
    body_ << " stroke-dasharray=\"" << dash << "\"";
  body_ << "/>\n";
}

void SvgWriter::rect(double x, double y, double w, double h,
                     const std::string &fill, const std::string &stroke) {
  body_ << "<rect x=\"" << svgNumber(x) << "\" y=\"" << svgNumber(y)
        << "\" width=\"" << svgNumber(w) << "\" height=\"" << svgNumber(h)
        << "\" fill=\"" << fill << "\" stroke=\"" << stroke << "\"/>\n";
}

void SvgWriter::seriesPath(
    const std::vector<std::vector<std::pair<double, double>>> &segments,
    const std::string &stroke, double width, const std::string &cssClass,
    const std::string &label) {
  std::string d;
  for (const auto &segment : segments) {
    for (size_t i = 0; i < segment.size(); ++i) {
      d += (i == 0 ? "M" : "L") + svgNumber(segment[i].first) + "," +
           svgNumber(segment[i].second) + " ";
    }
  }
  if (!d.empty())
    d.pop_back();
  body_ << "<path class=\"" << cssClass << "\" d=\"" << d
        << "\" fill=\"none\" stroke=\"" << stroke << "\" stroke-width=\""
        << width << "\" stroke-linejoin=\"round\"><title>" << xmlEscape(label)
        << "</title></path>\n";
  // A segment of one point draws nothing as a line; a dot shows it.
  for (const auto &segment : segments)
    if (segment.size() == 1)
      circle(segment[0].first, segment[0].second, 2.5, stroke);
}

void SvgWriter::cross(double x, double y, double size,
                      const std::string &stroke) {
  body_ << "<path class=\"bad-norm\" d=\"M" << svgNumber(x - size) << ","
        << svgNumber(y - size) << " L" << svgNumber(x + size) << ","
        << svgNumber(y + size) << " M" << svgNumber(x - size) << ","
        << svgNumber(y + size) << " L" << svgNumber(x + size) << ","
        << svgNumber(y - size) << "\" stroke=\"" << stroke
        << "\" stroke-width=\"2\" fill=\"none\"/>\n";
}

void SvgWriter::circle(double x, double y, double r, const std::string &fill) {
  body_ << "<circle cx=\"" << svgNumber(x) << "\" cy=\"" << svgNumber(y)
        << "\" r=\"" << svgNumber(r) << "\" fill=\"" << fill << "\"/>\n";
}

void SvgWriter::text(double x, double y, const std::string &content,
                     double size, const std::string &anchor,
                     const std::string &extra) {
  body_ << "<text x=\"" << svgNumber(x) << "\" y=\"" << svgNumber(y)
        << "\" font-size=\"" << size << "\" text-anchor=\"" << anchor << "\"";
  if (!extra.empty())
    body_ << " " << extra;
  body_ << ">" << xmlEscape(content) << "</text>\n";
}

void SvgWriter::raw(const std::string &markup) { body_ << markup; }

std::string SvgWriter::finish() {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width_
      << "\" height=\"" << height_ << "\" viewBox=\"0 0 " << width_ << " "
      << height_ << "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << body_.str() << "</svg>\n";
  return out.str();
}

} // namespace gradc
