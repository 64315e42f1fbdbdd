//===- YamlReader.cpp - Checked access to a parsed YAML document ----------===//
//
// Implements the schema checks of YamlReader.h. Numbers are parsed here
// rather than with yaml-cpp's as<T>() so that a value such as "1e3" for an
// integer field or "nan" for a rate gets a message that says what is wrong.
//
//===----------------------------------------------------------------------===//
#include "frontend/YamlReader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace gradc {

SourceLoc locationOf(const std::string &file, const YAML::Node &node) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null())
    return SourceLoc{file, 0, 0};
  return SourceLoc{file, mark.line + 1, mark.column + 1};
}

static size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    previous[j] = j;

  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = previous[j - 1] + (a[i - 1] != b[j - 1]);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1,
                             substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string closestWord(const std::string &word,
                        const std::vector<std::string> &known) {
  // A typo changes a few letters; anything further is a different word.
  size_t limit = std::max<size_t>(2, word.size() / 3);
  std::string best;
  size_t bestDistance = limit + 1;
  for (const std::string &candidate : known) {
    size_t distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

static std::string quoteList(const std::vector<std::string> &words) {
  std::string list;
  for (const std::string &word : words)
    list += (list.empty() ? "'" : ", '") + word + "'";
  return list;
}

YamlMap::YamlMap(const std::string &file, const YAML::Node &node,
                 std::string what, const std::vector<std::string> &allowedKeys)
    : file(file), node(node), what(std::move(what)) {
  if (!node.IsMap())
    userError(locationOf(file, node), this->what + " must be a mapping");

  std::set<std::string> seen;
  for (const auto &entry : node) {
    SourceLoc keyLoc = locationOf(file, entry.first);
    if (!entry.first.IsScalar())
      userError(keyLoc, "keys in " + this->what + " must be plain words");
    std::string key = entry.first.Scalar();

    if (!seen.insert(key).second)
      userError(keyLoc, "'" + key + "' appears twice in " + this->what);

    if (std::find(allowedKeys.begin(), allowedKeys.end(), key) !=
        allowedKeys.end()) {
      // yaml-cpp places an empty value where the next token starts, often
      // on the next line, so the key is the place to point at.
      if (entry.second.IsNull())
        userError(keyLoc, "'" + key + "' has no value");
      continue;
    }
    std::string suggestion = closestWord(key, allowedKeys);
    std::string hint = suggestion.empty()
                           ? "known keys: " + quoteList(allowedKeys)
                           : "did you mean '" + suggestion + "'?";
    userError(keyLoc, "unknown key '" + key + "' in " + this->what, hint);
  }
}

bool YamlMap::has(const std::string &key) const {
  return static_cast<bool>(node[key]);
}

YAML::Node YamlMap::get(const std::string &key) const { return node[key]; }

SourceLoc YamlMap::loc(const std::string &key) const {
  if (!has(key))
    return loc();
  return locationOf(file, node[key]);
}

YAML::Node YamlMap::require(const std::string &key) const {
  if (!has(key))
    userError(loc(), what + " needs '" + key + "'");
  return node[key];
}

std::string YamlMap::getString(const std::string &key,
                               std::string fallback) const {
  return has(key) ? asString(file, node[key], key) : fallback;
}

int64_t YamlMap::getInt(const std::string &key, int64_t fallback, int64_t min,
                        int64_t max) const {
  return has(key) ? asInt(file, node[key], key, min, max) : fallback;
}

double YamlMap::getDouble(const std::string &key, double fallback, double min,
                          double max) const {
  return has(key) ? asDouble(file, node[key], key, min, max) : fallback;
}

bool YamlMap::getBool(const std::string &key, bool fallback) const {
  return has(key) ? asBool(file, node[key], key) : fallback;
}

static std::string scalarOf(const std::string &file, const YAML::Node &node,
                            const std::string &field,
                            const std::string &expected) {
  if (!node.IsScalar())
    userError(locationOf(file, node),
              "'" + field + "' must be " + expected + ", not a " +
                  (node.IsSequence() ? "list"
                   : node.IsMap()    ? "mapping"
                                     : "null"));
  return node.Scalar();
}

std::string asString(const std::string &file, const YAML::Node &node,
                     const std::string &field) {
  return scalarOf(file, node, field, "a string");
}

int64_t asInt(const std::string &file, const YAML::Node &node,
              const std::string &field, int64_t min, int64_t max) {
  std::string text = scalarOf(file, node, field, "an integer");
  SourceLoc loc = locationOf(file, node);

  int64_t value = 0;
  const char *begin = text.data() + (text.size() > 1 && text[0] == '+');
  const char *end = text.data() + text.size();
  auto [stop, status] = std::from_chars(begin, end, value);
  if (status == std::errc::result_out_of_range)
    userError(loc, "'" + field + "' is " + text + ", which is absurdly large",
              "it must be at most " + std::to_string(max));
  if (status != std::errc() || stop != end || text.empty())
    userError(loc, "'" + field + "' must be an integer, not '" + text + "'");
  if (value < min || value > max)
    userError(loc, "'" + field + "' is " + text + ", but it must be between " +
                       std::to_string(min) + " and " + std::to_string(max));
  return value;
}

double asDouble(const std::string &file, const YAML::Node &node,
                const std::string &field, double min, double max) {
  std::string text = scalarOf(file, node, field, "a number");
  SourceLoc loc = locationOf(file, node);

  double value = 0;
  const char *begin = text.data() + (text.size() > 1 && text[0] == '+');
  const char *end = text.data() + text.size();
  auto [stop, status] = std::from_chars(begin, end, value);
  if (status != std::errc() || stop != end || text.empty() ||
      !std::isfinite(value))
    userError(loc, "'" + field + "' must be a finite number, not '" + text +
                       "'");
  if (value < min || value > max)
    userError(loc, "'" + field + "' is " + text + ", but it must be between " +
                       YAML::Node(min).Scalar() + " and " +
                       YAML::Node(max).Scalar());
  return value;
}

std::optional<bool> boolScalar(const YAML::Node &node) {
  if (!node.IsScalar())
    return std::nullopt;
  const std::string &text = node.Scalar();
  if (text == "true" || text == "True" || text == "yes")
    return true;
  if (text == "false" || text == "False" || text == "no")
    return false;
  return std::nullopt;
}

bool asBool(const std::string &file, const YAML::Node &node,
            const std::string &field) {
  std::string text = scalarOf(file, node, field, "true or false");
  if (const std::optional<bool> value = boolScalar(node))
    return *value;
  userError(locationOf(file, node),
            "'" + field + "' must be true or false, not '" + text + "'");
}

} // namespace gradc
