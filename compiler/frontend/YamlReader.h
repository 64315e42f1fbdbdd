//===- YamlReader.h - Checked access to a parsed YAML document -*- C++ -*-===//
//
// yaml-cpp gives nodes with positions but no schema. These helpers read a
// mapping against the keys it may contain and convert scalars to the types
// a field needs, turning every mismatch into a located UserError: an
// unknown key names the closest known one, a wrong type says what was
// expected, a missing field points at the mapping that lacks it.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_FRONTEND_YAMLREADER_H
#define GRADC_FRONTEND_YAMLREADER_H

#include "frontend/Diagnostics.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

// The location of a node in the file.
SourceLoc locationOf(const std::string &file, const YAML::Node &node);

// The known word closest to `word`, or "" when none is close enough to be
// a plausible typo.
std::string closestWord(const std::string &word,
                        const std::vector<std::string> &known);

// A YAML mapping whose keys have been checked against a list of allowed
// ones. `what` names the mapping in messages ("layer 'fc1'", "optimizer").
class YamlMap {
public:
  YamlMap(const std::string &file, const YAML::Node &node, std::string what,
          const std::vector<std::string> &allowedKeys);

  bool has(const std::string &key) const;
  YAML::Node get(const std::string &key) const;
  SourceLoc loc() const { return locationOf(file, node); }
  SourceLoc loc(const std::string &key) const;
  const std::string &name() const { return what; }

  // Fails with "<what> needs '<key>'" unless the key is present.
  YAML::Node require(const std::string &key) const;

  std::string getString(const std::string &key, std::string fallback) const;
  int64_t getInt(const std::string &key, int64_t fallback, int64_t min,
                 int64_t max) const;
  double getDouble(const std::string &key, double fallback, double min,
                   double max) const;
  bool getBool(const std::string &key, bool fallback) const;

  const std::string file;

private:
  YAML::Node node;
  std::string what;
};

// Scalar conversions that fail with a located message naming the field.
std::string asString(const std::string &file, const YAML::Node &node,
                     const std::string &field);
int64_t asInt(const std::string &file, const YAML::Node &node,
              const std::string &field, int64_t min, int64_t max);
double asDouble(const std::string &file, const YAML::Node &node,
                const std::string &field, double min, double max);
bool asBool(const std::string &file, const YAML::Node &node,
            const std::string &field);

// The node's value when it is a scalar spelled as asBool accepts, for
// fields that take either a flag or something else (`residual: false` or
// K, `clip: false` or a mapping).
std::optional<bool> boolScalar(const YAML::Node &node);

} // namespace gradc

#endif // GRADC_FRONTEND_YAMLREADER_H
