// Small helpers for tests that check generated text.
#ifndef GRADC_TESTS_TEXT_CHECKS_H
#define GRADC_TESTS_TEXT_CHECKS_H

#include <string>

// How many times `part` occurs in `text`, without overlaps.
inline size_t countOccurrences(const std::string &text,
                               const std::string &part) {
  size_t found = 0;
  for (size_t at = text.find(part); at != std::string::npos;
       at = text.find(part, at + part.size()))
    ++found;
  return found;
}

#endif // GRADC_TESTS_TEXT_CHECKS_H
