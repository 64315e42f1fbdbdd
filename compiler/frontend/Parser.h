//===- Parser.h - Model file to ModelSpec ----------------------*- C++ -*-===//
//
// Reads a model file, checks it against the schema of the contract, and
// returns a ModelSpec. Any mistake in the file is a located UserError;
// nothing the file says is trusted further than this parser checked it.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_FRONTEND_PARSER_H
#define GRADC_FRONTEND_PARSER_H

#include "frontend/ModelSpec.h"

#include <string>

namespace gradc {

// Parses the model file at `path`. `text` is the file's contents.
ModelSpec parseModel(const std::string &path, const std::string &text);

// Reads and parses the model file at `path`.
ModelSpec parseModelFile(const std::string &path);

// Whether `name` is a valid user name: a letter or '_', then letters,
// digits, '_' or '-', at most 64 characters.
bool isValidName(const std::string &name);

} // namespace gradc

#endif // GRADC_FRONTEND_PARSER_H
