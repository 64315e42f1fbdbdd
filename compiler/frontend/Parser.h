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

// Whether the data files the model names must exist: a trainer needs
// them, the printed graph and the gradient-flow report do not.
enum class DataFiles { Required, Optional };

// Parses the model file at `path`. `text` is the file's contents.
ModelSpec parseModel(const std::string &path, const std::string &text,
                     DataFiles data = DataFiles::Required);

// Reads and parses the model file at `path`.
ModelSpec parseModelFile(const std::string &path,
                         DataFiles data = DataFiles::Required);

// Whether `name` is a valid user name: a letter or '_', then letters,
// digits, '_' or '-', at most 64 characters.
bool isValidName(const std::string &name);

} // namespace gradc

#endif // GRADC_FRONTEND_PARSER_H
