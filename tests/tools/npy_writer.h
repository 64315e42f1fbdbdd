// Writes .npy files for the test tools: a version 1.0 header padded, with
// its newline, to 64 bytes, then the raw little-endian data.
#ifndef GRADC_TESTS_TOOLS_NPY_WRITER_H
#define GRADC_TESTS_TOOLS_NPY_WRITER_H

#include <cstdio>
#include <string>

// `descr` is numpy's dtype code ("<f4", "<i8"), `shape` a Python tuple
// ("(600, 2, 3)"). Returns false when the file cannot be written.
inline bool writeNpy(const std::string &path, const std::string &descr,
                     const std::string &shape, const void *data,
                     size_t bytes) {
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    return false;
  std::string preamble = "\x93NUMPY";
  preamble += {1, 0, static_cast<char>(header.size() & 0xff),
               static_cast<char>(header.size() >> 8)};
  std::fwrite(preamble.data(), 1, preamble.size(), file);
  std::fwrite(header.data(), 1, header.size(), file);
  std::fwrite(data, 1, bytes, file);
  return std::fclose(file) == 0;
}

#endif // GRADC_TESTS_TOOLS_NPY_WRITER_H
