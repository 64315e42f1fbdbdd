// The PyTorch values of make_training_references.py, read from
// data/training_references.json for test_optimizers.cpp and
// test_schedule.cpp.
#ifndef GRADC_TESTS_TRAINING_REFERENCES_H
#define GRADC_TESTS_TRAINING_REFERENCES_H

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

inline const nlohmann::json &trainingReferences() {
  static const nlohmann::json references = [] {
    const std::string path =
        std::string(GRADC_TEST_DATA_DIR) + "/training_references.json";
    std::ifstream in(path);
    if (!in)
      throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
  }();
  return references;
}

#endif // GRADC_TESTS_TRAINING_REFERENCES_H
