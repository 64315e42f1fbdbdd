// Tests of the frontend's diagnostics: every kind of mistake a user can make
// in a model file must end in a UserError that says what is wrong, points at
// the line and column where it is, and hints at the fix where one is known.
// Hostile files (deep nesting, huge numbers, damaged data files) must end
// the same way, never in a crash.
#include "frontend/Diagnostics.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"

#include <catch2/catch.hpp>

#include "temp_dir.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using gradc::UserError;

namespace {

// Drops the newline that follows the opening R"( of a raw string, so that
// line 1 of the model is the first line written inside it.
std::string yaml(const char *text) {
  std::string result(text);
  if (!result.empty() && result[0] == '\n')
    result.erase(0, 1);
  return result;
}

// A valid model of six lines; tests append a seventh section or replace a
// line with a broken one.
const std::string Valid = yaml(R"(
model: m
input: [4]
layers:
  - {op: dense, units: 3}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.1}
)");

struct Expected {
  Expected(int line, int column, std::string message, std::string hint = "")
      : line(line), column(column), message(std::move(message)),
        hint(std::move(hint)) {}

  int line;
  int column;
  std::string message; // a distinctive part of the message
  std::string hint;    // a distinctive part of the hint; "" when not checked
};

// Checks that `run`, which drives the parser and the graph builder (between
// them they find every mistake a model file can hold), stops with the
// expected user error.
void checkError(const Expected &expected, const std::function<void()> &run) {
  try {
    run();
  } catch (const UserError &error) {
    CHECK_THAT(error.what(), Contains(expected.message));
    CHECK(error.loc.line == expected.line);
    CHECK(error.loc.column == expected.column);
    if (!expected.hint.empty())
      CHECK_THAT(error.hint, Contains(expected.hint));
    return;
  }
  FAIL("no error; expected: " << expected.message);
}

void expectError(const std::string &text, const Expected &expected) {
  checkError(expected, [&] {
    gradc::buildForwardGraph(gradc::parseModel("model.yaml", text));
  });
}

void expectErrorInFile(const std::string &path, const Expected &expected) {
  checkError(expected,
             [&] { gradc::buildForwardGraph(gradc::parseModelFile(path)); });
}

// Replaces line `line` (from 1) of `text`.
std::string withLine(const std::string &text, int line,
                     const std::string &replacement) {
  std::istringstream in(text);
  std::string result, current;
  for (int i = 1; std::getline(in, current); ++i)
    result += (i == line ? replacement : current) + "\n";
  return result;
}

std::string withoutLine(const std::string &text, int line) {
  std::istringstream in(text);
  std::string result, current;
  for (int i = 1; std::getline(in, current); ++i)
    if (i != line)
      result += current + "\n";
  return result;
}

std::string repeat(const std::string &piece, int times) {
  std::string result;
  for (int i = 0; i < times; ++i)
    result += piece;
  return result;
}


void writeFile(const std::string &path, const std::string &bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// An IDX file of unsigned bytes: 00 00 08 <rank>, each dimension as a
// big-endian 32-bit count, then the values.
void writeIdx(const std::string &path, const std::vector<uint32_t> &dims,
              const std::vector<unsigned char> &values) {
  std::string bytes = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t dim : dims)
    for (int shift : {24, 16, 8, 0})
      bytes += static_cast<char>((dim >> shift) & 0xff);
  bytes.append(values.begin(), values.end());
  writeFile(path, bytes);
}

// The valid model with a data section naming the given files.
std::string withData(const std::string &images, const std::string &labels,
                     const std::string &input = "[6]",
                     const std::string &units = "8") {
  std::string text = withLine(Valid, 2, "input: " + input);
  text = withLine(text, 4, "  - {op: dense, units: " + units + "}");
  return text + "data:\n  train:\n    images: " + images +
         "\n    labels: " + labels + "\n";
}

} // namespace

TEST_CASE("the valid model that the other cases break compiles",
          "[diagnostics]") {
  CHECK_NOTHROW(gradc::buildForwardGraph(gradc::parseModel("m.yaml", Valid)));
}

TEST_CASE("malformed YAML: an unclosed bracket", "[diagnostics]") {
  // yaml-cpp notices the missing ']' where the next line's mapping starts.
  expectError(withLine(Valid, 2, "input: [4"),
              {3, 7, "malformed YAML: end of sequence flow not found"});
}

TEST_CASE("malformed YAML: bad indentation", "[diagnostics]") {
  expectError(withLine(Valid, 5, " loss: softmax_cross_entropy"),
              {5, 2, "malformed YAML: end of map not found"});
}

TEST_CASE("malformed YAML: a tab in the indentation", "[diagnostics]") {
  expectError(withLine(Valid, 4, "\t- {op: dense, units: 3}"),
              {4, 2, "malformed YAML: illegal block entry",
               "this line is indented with a tab"});
  expectError(Valid + "train:\n\tbatch: 4\n",
              {8, 7, "malformed YAML", "this line is indented with a tab"});
}

TEST_CASE("the top level is not a mapping", "[diagnostics]") {
  expectError("- model\n- input\n", {1, 1, "must be a mapping"});
  expectError("model m\n", {1, 1, "must be a mapping"});
}

TEST_CASE("an empty file", "[diagnostics]") {
  expectError("", {1, 1, "must be a mapping with 'model', 'input'"});
  expectError("# only a comment\n\n", {1, 1, "must be a mapping"});
}

TEST_CASE("an unknown key at the top level", "[diagnostics]") {
  expectError(Valid + "lyers: []\n",
              {7, 1, "unknown key 'lyers' in the model file",
               "did you mean 'layers'?"});
  expectError(Valid + "zzzzzzzz: 1\n",
              {7, 1, "unknown key 'zzzzzzzz'", "known keys: 'model'"});
}

TEST_CASE("an unknown key in a layer", "[diagnostics]") {
  expectError(withLine(Valid, 4, "  - {op: dense, unit: 3}"),
              {4, 17, "unknown key 'unit' in layer 0 (dense)",
               "did you mean 'units'?"});
}

TEST_CASE("an unknown key in the optimizer", "[diagnostics]") {
  expectError(
      withLine(Valid, 6, "optimizer: {type: sgd, lr: 0.1, momentun: 0.9}"),
      {6, 33, "unknown key 'momentun' in optimizer",
       "did you mean 'momentum'?"});
}

TEST_CASE("an unknown key in train", "[diagnostics]") {
  expectError(
      Valid + "train: {batch: 4, epoch: 2}\n",
      {7, 19, "unknown key 'epoch' in train", "did you mean 'epochs'?"});
}

TEST_CASE("an unknown key in data", "[diagnostics]") {
  expectError(Valid + "data: {scal: 0.5}\n",
              {7, 8, "unknown key 'scal' in data", "did you mean 'scale'?"});
}

TEST_CASE("an unknown key in log", "[diagnostics]") {
  expectError(Valid + "log: {vanishing_bellow: 1.0e-6}\n",
              {7, 7, "unknown key 'vanishing_bellow' in log",
               "did you mean 'vanishing_below'?"});
}

TEST_CASE("a gradient-norm log file without a name", "[diagnostics]") {
  // An empty name logged nothing; a NUL cut the name short.
  expectError(Valid + "log: {grad_norms: {every: 1, file: ''}}\n",
              {7, 36, "'file' must be a file's path"});
  expectError(Valid + "log: {grad_norms: {file: \"a\\0b.csv\"}}\n",
              {7, 26, "'file' must be a file's path"});
}

TEST_CASE("an init of both kinds", "[diagnostics]") {
  expectError(withLine(Valid, 4,
                       "  - {op: dense, units: 3, init: {normal: 1, "
                       "uniform: 2}}"),
              {4, 54, "init takes 'normal' or 'uniform', not both"});
}

TEST_CASE("a second YAML document", "[diagnostics]") {
  expectError(Valid + "---\nmodel: other\n",
              {8, 1, "the model file holds more than one YAML document",
               "remove the '---' and what follows"});
}

TEST_CASE("a key given twice", "[diagnostics]") {
  // yaml-cpp keeps both entries of a duplicated key, so the check sees
  // them and points at the second.
  expectError("model: m\n" + Valid,
              {2, 1, "'model' appears twice in the model file"});
  expectError(withLine(Valid, 4, "  - {op: dense, units: 3, units: 4}"),
              {4, 27, "'units' appears twice in layer 0 (dense)"});
}

TEST_CASE("a string where an integer belongs", "[diagnostics]") {
  expectError(withLine(Valid, 4, "  - {op: dense, units: many}"),
              {4, 24, "'units' must be an integer, not 'many'"});
}

TEST_CASE("a float where an integer belongs", "[diagnostics]") {
  expectError(withLine(Valid, 4, "  - {op: dense, units: 2.5}"),
              {4, 24, "'units' must be an integer, not '2.5'"});
}

TEST_CASE("a list where a number belongs", "[diagnostics]") {
  expectError(withLine(Valid, 6, "optimizer: {type: sgd, lr: [0.1]}"),
              {6, 28, "'lr' must be a number, not a list"});
}

TEST_CASE("a mapping where an integer belongs", "[diagnostics]") {
  expectError(Valid + "train: {batch: {size: 3}}\n",
              {7, 16, "'batch' must be an integer, not a mapping"});
}

TEST_CASE("a phrase where a bool belongs", "[diagnostics]") {
  expectError(Valid + "train: {shuffle: yes please}\n",
              {7, 18, "'shuffle' must be true or false, not 'yes please'"});
}

TEST_CASE("a missing top-level field", "[diagnostics]") {
  // The message names the field; the location is the top-level mapping.
  struct Case {
    std::string field;
    int firstLine, lastLine;
  };
  for (const Case &missing : std::vector<Case>{{"model", 1, 1},
                                               {"input", 2, 2},
                                               {"layers", 3, 4},
                                               {"loss", 5, 5},
                                               {"optimizer", 6, 6}}) {
    INFO("without '" << missing.field << "'");
    std::string text = Valid;
    for (int line = missing.lastLine; line >= missing.firstLine; --line)
      text = withoutLine(text, line);
    expectError(text, {1, 1, "the model file needs '" + missing.field + "'"});
  }
}

TEST_CASE("a missing field inside a section", "[diagnostics]") {
  expectError(withLine(Valid, 6, "optimizer: {lr: 0.1}"),
              {6, 12, "optimizer needs 'type'"});
  expectError(withLine(Valid, 6, "optimizer:\n  type: sgd\n  momentum: 0.9"),
              {7, 3, "optimizer needs 'lr'"});
  expectError(withLine(Valid, 4, "  - {op: dense, activation: relu}"),
              {4, 5, "layer 0 (dense) needs 'units'"});
}

TEST_CASE("a field with no value", "[diagnostics]") {
  // yaml-cpp would place the empty value on the next line; the key is
  // where the mistake is.
  expectError(withLine(Valid, 1, "model:"), {1, 1, "'model' has no value"});
  expectError(withLine(Valid, 6, "optimizer:\n  type: sgd\n  lr:"),
              {8, 3, "'lr' has no value"});
}

TEST_CASE("a size that is zero or negative", "[diagnostics]") {
  expectError(withLine(Valid, 4, "  - {op: dense, units: 0}"),
              {4, 24, "'units' is 0, but it must be between 1 and"});
  expectError(withLine(Valid, 4, "  - {op: dense, units: -3}"),
              {4, 24, "'units' is -3, but it must be between 1 and"});
  expectError(withLine(Valid, 2, "input: [0]"),
              {2, 9, "'input' is 0, but it must be between 1 and"});
}

TEST_CASE("a size too large for any integer", "[diagnostics]") {
  expectError(
      withLine(Valid, 4, "  - {op: dense, units: 99999999999999999999}"),
      {4, 24, "'units' is 99999999999999999999, which is absurdly large",
       "it must be at most 2147483648"});
}

TEST_CASE("a tensor over 2^31 elements is refused before allocating",
          "[diagnostics]") {
  // The weight of this layer alone would take 40 GB.
  std::string text = withLine(Valid, 2, "input: [100000]");
  text = withLine(text, 4, "  - {op: dense, units: 100000}");
  expectError(text, {4, 5,
                     "'layer0.weight' would have 10,000,000,000 elements "
                     "([100000, 100000]), more than the limit of 2^31"});
}

TEST_CASE("a model over 16 GiB at a big batch is refused", "[diagnostics]") {
  // Each tensor is under 2^31 elements; together they are not under 16 GiB.
  std::string text = withLine(Valid, 2, "input: [1024]");
  text = withLine(text, 4, "  - {op: dense, units: 1024}");
  expectError(text + "train: {batch: 1048576}\n",
              {4, 5, "the model needs more than 16 GiB at batch 1048576",
               "a smaller batch"});
  CHECK_NOTHROW(gradc::buildForwardGraph(
      gradc::parseModel("model.yaml", text + "train: {batch: 1024}\n")));
}

TEST_CASE("an invalid model name", "[diagnostics]") {
  const char *hint = "at most 64 characters";
  auto expectInvalid = [&](const std::string &value, const std::string &name) {
    expectError(withLine(Valid, 1, "model: " + value),
                {1, 8, "invalid name '" + name + "'", hint});
  };
  expectInvalid("1net", "1net");
  expectInvalid("my net", "my net");
  expectInvalid("\"my'net\"", "my'net");
  expectInvalid("a;b", "a;b");
  expectInvalid("\"a\\nb\"", "a\nb");
  expectInvalid("../x", "../x");
  expectInvalid("a" + std::string(64, 'b'), "a" + std::string(64, 'b'));

  std::string longest = "a" + std::string(63, 'b');
  CHECK_NOTHROW(
      gradc::parseModel("model.yaml", withLine(Valid, 1, "model: " + longest)));
}

TEST_CASE("an invalid layer name", "[diagnostics]") {
  expectError(withLine(Valid, 4, "  - {op: dense, units: 3, name: \"x;rm\"}"),
              {4, 33, "invalid name 'x;rm'", "at most 64 characters"});
}

TEST_CASE("two layers with one name", "[diagnostics]") {
  std::string text = withLine(Valid, 4,
                              "  - {op: dense, units: 8, name: fc}\n"
                              "  - {op: dense, units: 3, name: fc}");
  expectError(text, {5, 5, "two layers are named 'fc'",
                     "every layer needs a name of its own"});

  // A default name counts as much as one the user wrote.
  text = withLine(Valid, 4,
                  "  - {op: dense, units: 8}\n"
                  "  - {op: dense, units: 3, name: layer0}");
  expectError(text, {5, 5, "two layers are named 'layer0'"});
}

TEST_CASE("an unknown op", "[diagnostics]") {
  expectError(withLine(Valid, 4, "  - {op: dense, units: 3}\n  - {op: rleu}"),
              {5, 10, "unknown op 'rleu'", "did you mean 'relu'?"});
  expectError(withLine(Valid, 4, "  - {op: transformer}"),
              {4, 10, "unknown op 'transformer'", "supported ops: dense"});
}

TEST_CASE("an unknown activation", "[diagnostics]") {
  expectError(withLine(Valid, 4, "  - {op: dense, units: 3, activation: rlu}"),
              {4, 39, "unknown activation 'rlu'", "did you mean 'relu'?"});
  expectError(
      withLine(Valid, 4, "  - {op: dense, units: 3, activation: swishy}"),
      {4, 39, "unknown activation 'swishy'", "relu, sigmoid, tanh, "});
}

TEST_CASE("an unknown loss", "[diagnostics]") {
  expectError(withLine(Valid, 5, "loss: softmax_cross_entropie"),
              {5, 7, "unknown loss 'softmax_cross_entropie'",
               "did you mean 'softmax_cross_entropy'?"});
  expectError(withLine(Valid, 5, "loss: hinge"),
              {5, 7, "unknown loss 'hinge'", "softmax_cross_entropy, mse"});
}

TEST_CASE("a loss that does not fit the output", "[diagnostics]") {
  std::string text = withLine(Valid, 4,
                              "  - {op: dense, units: 8, activation: relu}\n"
                              "  - {op: dense, units: 1, name: head}");
  expectError(text, {6, 7,
                     "'softmax_cross_entropy' needs one score per "
                     "class"});
  expectError(text, {6, 7, "the last layer 'head' gives [B,1]"});

  text = withLine(Valid, 2, "input: [2, 4]");
  expectError(text, {5, 7, "the last layer 'layer0' gives [B,2,3]",
                     "add a flatten layer"});
}

TEST_CASE("a data file that does not exist", "[diagnostics]") {
  TempDir dir;
  std::string model = dir.file("models/model.yaml");
  writeIdx(dir.file("models/labels.idx"), {3}, {0, 1, 2});

  // Relative paths are relative to the model file, not to the working
  // directory, and the hint says where the file was looked for.
  writeFile(model, withData("images.idx", "labels.idx"));
  expectErrorInFile(model, {9, 13, "data file 'images.idx' does not exist",
                            "so this is " + dir.file("models/images.idx")});

  std::string absolute = dir.file("nowhere/images.idx");
  writeFile(model, withData(absolute, "labels.idx"));
  expectErrorInFile(model,
                    {9, 13, "data file '" + absolute + "' does not exist"});
}

TEST_CASE("data files found relative to the model file", "[diagnostics]") {
  TempDir dir;
  std::string model = dir.file("models/model.yaml");
  writeIdx(dir.file("models/data/images.idx"), {3, 2, 3},
           std::vector<unsigned char>(18, 1));
  writeIdx(dir.file("models/data/labels.idx"), {3}, {0, 1, 7});
  writeFile(model, withData("data/images.idx", "data/labels.idx"));
  CHECK_NOTHROW(gradc::buildForwardGraph(gradc::parseModelFile(model)));
}

TEST_CASE("data whose samples do not fit the input", "[diagnostics]") {
  TempDir dir;
  std::string model = dir.file("model.yaml");
  writeIdx(dir.file("images.idx"), {3, 2, 3},
           std::vector<unsigned char>(18, 1));
  writeIdx(dir.file("labels.idx"), {3}, {0, 1, 2});
  writeFile(model, withData("images.idx", "labels.idx", "[5]"));
  expectErrorInFile(model, {2, 8,
                            "'input' is [5] (5 values), but each sample of "
                            "data.train.images has 6 values"});
}

TEST_CASE("labels beyond the outputs of the model", "[diagnostics]") {
  TempDir dir;
  std::string model = dir.file("model.yaml");
  writeIdx(dir.file("images.idx"), {3, 6}, std::vector<unsigned char>(18, 1));
  writeIdx(dir.file("labels.idx"), {3}, {0, 1, 7});
  writeFile(model, withData("images.idx", "labels.idx", "[6]", "5"));
  expectErrorInFile(model, {5, 7,
                            "the labels of data.train go up to 7, but the "
                            "last layer 'layer0' has only 5 outputs"});
}

TEST_CASE("a data file whose header claims an absurd size", "[diagnostics]") {
  // The product of these dimensions does not fit in 64 bits.
  TempDir dir;
  std::string model = dir.file("model.yaml");
  writeIdx(dir.file("images.idx"), {3, 0xffffffff, 0xffffffff, 0xffffffff},
           {1, 2, 3});
  writeIdx(dir.file("labels.idx"), {3}, {0, 1, 2});
  writeFile(model, withData("images.idx", "labels.idx"));
  expectErrorInFile(model, {2, 8,
                            "cannot be used: its header claims an absurdly "
                            "large size"});
}

TEST_CASE("deeply nested brackets are refused without a crash",
          "[diagnostics]") {
  // The 65th bracket, at column 8 + 64, is one too many.
  expectError(withLine(Valid, 2, "input: " + repeat("[", 10000)),
              {2, 72, "the YAML nests more than 64 levels deep"});
  expectError(repeat("{a: ", 10000), {1, 257, "nests more than 64 levels"});

  // A quote in a comment or a word must not hide the brackets after it.
  expectError("# don't\ninput: " + repeat("[", 10000),
              {2, 72, "nests more than 64 levels"});
  expectError("model: bob's\ninput: " + repeat("[", 10000),
              {2, 72, "nests more than 64 levels"});
}

TEST_CASE("a line of 5000 dashes is refused without a crash", "[diagnostics]") {
  expectError(repeat("- ", 5000), {1, 513, "the YAML nests too deeply"});
  // After a key, the dashes are not a nesting but a syntax error.
  expectError("model: m\nlayers: " + repeat("- ", 5000),
              {2, 9, "malformed YAML"});
}

TEST_CASE("a file over 1 MiB", "[diagnostics]") {
  std::string text = Valid + "# " + std::string(1 << 20, 'x') + "\n";
  expectError(text, {0, 0, "the model file is larger than 1 MiB"});

  TempDir dir;
  writeFile(dir.file("big.yaml"), text);
  expectErrorInFile(dir.file("big.yaml"),
                    {0, 0, "the model file is larger than 1 MiB"});
}

TEST_CASE("a model file that does not exist", "[diagnostics]") {
  TempDir dir;
  expectErrorInFile(dir.file("absent.yaml"),
                    {0, 0, "cannot open the model file", "no such file"});
}

TEST_CASE("a printed diagnostic is one line, however odd the name",
          "[diagnostics]") {
  // A name with a newline and a terminal escape sequence in it.
  std::string text = withLine(Valid, 1, "model: \"a\\nb\\e[2J\"");
  try {
    gradc::parseModel("model.yaml", text);
    FAIL("the name was accepted");
  } catch (const UserError &error) {
    std::ostringstream out;
    gradc::printUserError(out, error);
    CHECK(out.str() == "model.yaml:1:8: error: invalid name 'a\\nb\\x1b[2J'\n"
                       "model.yaml:1:8: note: " +
                           error.hint + "\n");
  }
}
