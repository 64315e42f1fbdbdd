// Internal to tensor_io: parsing a safetensors header. The JSON is scanned
// once before it is parsed, so that a hostile header is refused before it
// can cost memory or time, and a key given twice is refused rather than
// silently resolved.
#ifndef GRADC_RUNTIME_SAFETENSORS_HEADER_H
#define GRADC_RUNTIME_SAFETENSORS_HEADER_H

#include <string>

#include <nlohmann/json.hpp>

namespace gradc {

// Parses text, the header of the safetensors file at path; a header that
// is not JSON, or too large or complex to be real, throws an IoError.
nlohmann::json parseSafeTensorsHeader(const std::string &path,
                                      const std::string &text);

} // namespace gradc

#endif // GRADC_RUNTIME_SAFETENSORS_HEADER_H
