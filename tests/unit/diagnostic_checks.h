// Shared by the diagnostics tests: build a model from YAML text, and check
// that building it stops with a located user error.
#ifndef GRADC_TESTS_DIAGNOSTIC_CHECKS_H
#define GRADC_TESTS_DIAGNOSTIC_CHECKS_H

#include "frontend/Diagnostics.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"

#include <catch2/catch.hpp>

#include <string>

inline gradc::Graph build(const std::string &text) {
  return gradc::buildForwardGraph(gradc::parseModel("model.yaml", text));
}

// Checks that building `text` stops with a user error whose message and
// hint contain the given parts, at the given line and column.
inline void expectError(const std::string &text, int line, int column,
                        const std::string &message,
                        const std::string &hint = "") {
  try {
    build(text);
  } catch (const gradc::UserError &error) {
    CHECK_THAT(error.what(), Catch::Matchers::Contains(message));
    CHECK(error.loc.line == line);
    CHECK(error.loc.column == column);
    if (!hint.empty())
      CHECK_THAT(error.hint, Catch::Matchers::Contains(hint));
    return;
  }
  FAIL("no error; expected: " << message);
}

#endif // GRADC_TESTS_DIAGNOSTIC_CHECKS_H
