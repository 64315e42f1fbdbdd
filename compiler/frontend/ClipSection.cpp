//===- ClipSection.cpp - The `passes.clip` section ------------------------===//
//
// See ClipSection.h.
//
//===----------------------------------------------------------------------===//
#include "frontend/ClipSection.h"

#include "frontend/Diagnostics.h"
#include "frontend/YamlReader.h"

#include <cmath>
#include <fmt/format.h>

namespace gradc {

// Large enough for any real use; the bound keeps the value printable.
static constexpr double MaxThreshold = 1e30;

ClipSpec parseClipSection(const std::string &file, const YAML::Node &node) {
  ClipSpec clip;
  // `clip: false` says "no clipping" explicitly, as `residual: false` does.
  if (boolScalar(node) == false)
    return clip;
  if (!node.IsMap())
    userError(locationOf(file, node),
              "'clip' must be a mapping such as {global_norm: 1.0} or "
              "{value: 0.5}, or false");
  YamlMap map(file, node, "passes.clip", {"global_norm", "value"});
  const bool norm = map.has("global_norm");
  const bool value = map.has("value");
  if (norm == value)
    userError(map.loc(),
              norm ? "'clip' takes one of 'global_norm' and 'value', not both"
                   : "'clip' needs 'global_norm' or 'value'",
              "for example clip: {global_norm: 1.0}");
  const std::string key = norm ? "global_norm" : "value";
  clip.kind = norm ? ClipKind::GlobalNorm : ClipKind::Value;
  clip.threshold = asDouble(file, map.get(key), key, 0, MaxThreshold);
  // Zero would erase every gradient; asDouble's range is inclusive.
  if (clip.threshold <= 0)
    userError(map.loc(key), "'" + key + "' must be greater than 0");
  return clip;
}

double checkClipThreshold(const std::string &option, double value) {
  if (!std::isfinite(value) || value <= 0 || value > MaxThreshold)
    userError(SourceLoc{"gradc"},
              fmt::format("{} must be a finite number greater than 0, not {}",
                          option, value));
  return value;
}

std::string describeClip(const ClipSpec &clip) {
  switch (clip.kind) {
  case ClipKind::GlobalNorm:
    return fmt::format("clip_norm={}", clip.threshold);
  case ClipKind::Value:
    return fmt::format("clip_value={}", clip.threshold);
  case ClipKind::None:
    break;
  }
  return "";
}

} // namespace gradc
