//===- ClipSection.h - The `passes.clip` section -------------*- C++ -*-===//
//
// Reads `clip: {global_norm: X}` or `clip: {value: X}` (or `clip: false`)
// from the model file's `passes`. The clipping itself happens in the
// trainer; the compiler only checks the setting and carries it there.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_FRONTEND_CLIPSECTION_H
#define GRADC_FRONTEND_CLIPSECTION_H

#include "frontend/ModelSpec.h"

#include <yaml-cpp/yaml.h>

#include <string>

namespace gradc {

// Fails with a located UserError unless exactly one of the two keys is
// given, with a finite threshold greater than zero.
ClipSpec parseClipSection(const std::string &file, const YAML::Node &node);

// The threshold of --clip-norm or --clip-value, checked as the YAML's is;
// `option` names the switch in the message.
double checkClipThreshold(const std::string &option, double value);

// "clip_norm=1" or "clip_value=0.5", for the model table's passes string;
// empty when there is no clipping.
std::string describeClip(const ClipSpec &clip);

} // namespace gradc

#endif // GRADC_FRONTEND_CLIPSECTION_H
