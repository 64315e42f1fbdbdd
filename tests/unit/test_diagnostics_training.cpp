// Tests of the diagnostics of the training sections: the optimizer (an
// unknown type or key, a beta outside [0, 1), a key of another
// optimizer), the learning-rate schedule (an unknown type, a missing or
// foreign field) and the data splits given as {x, y} .npy files or
// {csv, label} (mixed or half-given forms, missing files, samples that do
// not fit the input, targets that do not fit the loss, a label column
// past the last). Each must end in a UserError that says what is wrong
// and points at the line and column where the user would fix it. The
// valid models check that the sections' values reach the ModelSpec.
#include "frontend/Diagnostics.h"
#include "frontend/Parser.h"
#include "ir/GraphBuilder.h"

#include <catch2/catch.hpp>

#include "temp_dir.h"

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using gradc::UserError;

namespace {

// A valid model of six lines, of four inputs and three classes; the
// optimizer is line 6, and the tests append a seventh line or more.
const std::string Head = "model: m\n"
                         "input: [4]\n"
                         "layers:\n"
                         "  - {op: dense, units: 3}\n"
                         "loss: softmax_cross_entropy\n";

std::string withOptimizer(const std::string &optimizer) {
  return Head + "optimizer: " + optimizer + "\n";
}

std::string withSchedule(const std::string &schedule) {
  return withOptimizer("{type: sgd, lr: 0.1}") +
         "train: {epochs: 4, schedule: " + schedule + "}\n";
}

// The model with a train split on line 8, given in flow form.
std::string withSplit(const std::string &split,
                      const std::string &loss = "softmax_cross_entropy") {
  std::string head = Head;
  head.replace(head.find("softmax_cross_entropy"), 21, loss);
  return head + "optimizer: {type: sgd, lr: 0.1}\n" +
         "data:\n"
         "  train: " +
         split + "\n";
}

// The 1-based column where `token` first appears in line `line` of
// `text`, so that the expected locations read as what they point at.
int columnOf(const std::string &text, int line, const std::string &token) {
  size_t start = 0;
  for (int i = 1; i < line; ++i)
    start = text.find('\n', start) + 1;
  size_t end = text.find('\n', start);
  size_t at = text.substr(start, end - start).find(token);
  REQUIRE(at != std::string::npos);
  return static_cast<int>(at) + 1;
}

void expectErrorIn(const std::string &file, const std::string &text, int line,
                   int column, const std::string &message,
                   const std::string &hint = "") {
  try {
    gradc::buildForwardGraph(gradc::parseModel(file, text));
  } catch (const UserError &error) {
    CHECK_THAT(error.what(), Contains(message));
    CHECK(error.loc.line == line);
    CHECK(error.loc.column == column);
    if (!hint.empty())
      CHECK_THAT(error.hint, Contains(hint));
    return;
  }
  FAIL("no error; expected: " << message);
}

// Checks that `text` fails at the first `token` on line `line`.
void expectErrorAt(const std::string &text, int line, const std::string &token,
                   const std::string &message, const std::string &hint = "") {
  expectErrorIn("model.yaml", text, line, columnOf(text, line, token), message,
                hint);
}

gradc::ModelSpec parse(const std::string &text,
                       const std::string &file = "model.yaml") {
  return gradc::parseModel(file, text);
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// A version 1.0 .npy file of the given dtype and shape, with `itemSize`
// zero bytes per element, less the last `missing` bytes.
void writeNpy(const std::string &path, const std::string &descr,
              const std::vector<int64_t> &shape, int itemSize,
              int64_t missing = 0) {
  std::string dims;
  int64_t count = 1;
  for (int64_t dim : shape) {
    dims += std::to_string(dim) + ", ";
    count *= dim;
  }
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes += std::string(static_cast<size_t>(count * itemSize - missing), '\0');
  writeFile(path, bytes);
}

} // namespace

TEST_CASE("adam and adamw take PyTorch's defaults", "[diagnostics]") {
  gradc::ModelSpec adam = parse(withOptimizer("{type: adam, lr: 0.001}"));
  CHECK(adam.optimizer.kind == gradc::OptimizerKind::Adam);
  CHECK(adam.optimizer.beta1 == 0.9);
  CHECK(adam.optimizer.beta2 == 0.999);
  CHECK(adam.optimizer.eps == 1e-8);
  CHECK(adam.optimizer.weightDecay == 0);

  gradc::ModelSpec adamw = parse(withOptimizer(
      "{type: adamw, lr: 0.001, beta1: 0, beta2: 0.99, eps: 1.0e-6}"));
  CHECK(adamw.optimizer.kind == gradc::OptimizerKind::AdamW);
  CHECK(adamw.optimizer.weightDecay == 0.01);
  CHECK(adamw.optimizer.beta1 == 0);
  CHECK(adamw.optimizer.beta2 == 0.99);
  CHECK(adamw.optimizer.eps == 1e-6);
}

TEST_CASE("an unknown optimizer", "[diagnostics]") {
  std::string text = withOptimizer("{type: adamm, lr: 0.1}");
  expectErrorAt(text, 6, "adamm", "unknown optimizer 'adamm'",
                "did you mean 'adam'?");
  text = withOptimizer("{type: rmsprop, lr: 0.1}");
  expectErrorAt(text, 6, "rmsprop", "unknown optimizer 'rmsprop'",
                "optimizers: sgd, adam, adamw");
}

TEST_CASE("an unknown key in an adam optimizer", "[diagnostics]") {
  std::string text = withOptimizer("{type: adam, lr: 0.1, beta_1: 0.8}");
  expectErrorAt(text, 6, "beta_1", "unknown key 'beta_1' in optimizer",
                "did you mean 'beta1'?");
}

TEST_CASE("a beta outside 0 to 1", "[diagnostics]") {
  std::string text = withOptimizer("{type: adam, lr: 0.1, beta1: 1.0}");
  expectErrorAt(text, 6, "1.0",
                "'beta1' is 1.0, but it must be at least 0 "
                "and below 1",
                "PyTorch's default is 0.9");
  text = withOptimizer("{type: adamw, lr: 0.1, beta2: -0.5}");
  expectErrorAt(text, 6, "-0.5",
                "'beta2' is -0.5, but it must be at least 0 "
                "and below 1",
                "PyTorch's default is 0.999");
  text = withOptimizer("{type: adam, lr: 0.1, beta2: lots}");
  expectErrorAt(text, 6, "lots", "'beta2' must be a finite number");
}

TEST_CASE("an eps out of range", "[diagnostics]") {
  std::string text = withOptimizer("{type: adam, lr: 0.1, eps: -1.0e-8}");
  expectErrorAt(text, 6, "-1.0e-8",
                "'eps' is -1.0e-8, but it must be "
                "between 0 and 1");
}

TEST_CASE("a key of another optimizer", "[diagnostics]") {
  std::string text = withOptimizer("{type: adam, lr: 0.1, momentum: 0.9}");
  expectErrorAt(text, 6, "0.9", "'momentum' belongs to sgd, not adam",
                "set by 'beta1' and 'beta2'");
  text = withOptimizer("{type: adamw, lr: 0.1, nesterov: true}");
  expectErrorAt(text, 6, "true", "'nesterov' belongs to sgd, not adamw");
  text = withOptimizer("{type: sgd, lr: 0.1, beta2: 0.99}");
  expectErrorAt(text, 6, "0.99", "'beta2' belongs to adam and adamw, not sgd",
                "'momentum'");
}

TEST_CASE("step and cosine schedules reach the ModelSpec", "[diagnostics]") {
  gradc::ModelSpec step = parse(withSchedule("{type: step, every: 2, "
                                             "gamma: 0.5}"));
  CHECK(step.train.schedule.kind == gradc::ScheduleKind::Step);
  CHECK(step.train.schedule.every == 2);
  CHECK(step.train.schedule.gamma == 0.5);
  gradc::ModelSpec cosine = parse(withSchedule("{type: cosine}"));
  CHECK(cosine.train.schedule.kind == gradc::ScheduleKind::Cosine);
  gradc::ModelSpec none = parse(withOptimizer("{type: sgd, lr: 0.1}"));
  CHECK(none.train.schedule.kind == gradc::ScheduleKind::None);
}

TEST_CASE("an unknown schedule type", "[diagnostics]") {
  std::string text = withSchedule("{type: cosin}");
  expectErrorAt(text, 7, "cosin", "unknown schedule 'cosin'",
                "did you mean 'cosine'?");
  text = withSchedule("{type: exponential}");
  expectErrorAt(text, 7, "exponential", "unknown schedule 'exponential'",
                "schedules: step, cosine");
}

TEST_CASE("a schedule without a field it needs", "[diagnostics]") {
  std::string text = withSchedule("{type: step, gamma: 0.1}");
  expectErrorAt(text, 7, "{type: step", "a step schedule needs 'every'",
                "{type: step, every: EPOCHS, gamma: G}");
  text = withSchedule("{type: step, every: 3}");
  expectErrorAt(text, 7, "{type: step", "a step schedule needs 'gamma'");
  text = withSchedule("{every: 3}");
  expectErrorAt(text, 7, "{every", "train.schedule needs 'type'");
}

TEST_CASE("a schedule with a field it does not take", "[diagnostics]") {
  std::string text = withSchedule("{type: cosine, gamma: 0.1}");
  expectErrorAt(text, 7, "0.1",
                "'gamma' belongs to the step schedule, not "
                "cosine");
  text = withSchedule("{type: step, every: 3, gama: 0.1}");
  expectErrorAt(text, 7, "gama", "unknown key 'gama' in train.schedule",
                "did you mean 'gamma'?");
  text = withSchedule("{type: step, every: 0, gamma: 0.1}");
  expectErrorAt(text, 7, "0, gamma", "'every' is 0, but it must be between 1");
}

TEST_CASE("a split that mixes or half-gives its forms", "[diagnostics]") {
  TempDir dir;
  const std::string model = dir.file("model.yaml");
  writeNpy(dir.file("x.npy"), "<f4", {5, 4}, 4);
  writeNpy(dir.file("y.npy"), "<i8", {5}, 8);

  std::string text = withSplit("{images: a.idx, labels: b.idx, x: x.npy}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "x.npy"),
                "data.train mixes 'x' with 'images'",
                "{x, y} (.npy files) or {csv, label}");
  text = withSplit("{}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "{}"),
                "data.train names no data");
  text = withSplit("{x: x.npy}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "{x"),
                "data.train needs 'y' alongside 'x'");
  text = withSplit("{label: 3}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "{label"),
                "data.train needs 'csv' alongside 'label'");
  text = withSplit("{csv: data.csv, labels: b.idx}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "data.csv"),
                "data.train mixes 'csv' with 'labels'");
}

TEST_CASE("a .npy or CSV file that does not exist", "[diagnostics]") {
  TempDir dir;
  const std::string model = dir.file("model.yaml");
  writeNpy(dir.file("x.npy"), "<f4", {5, 4}, 4);
  std::string text = withSplit("{x: x.npy, y: labels.npy}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "labels.npy"),
                "data file 'labels.npy' does not exist",
                "so this is " + dir.file("labels.npy"));
  text = withSplit("{csv: table.csv, label: 0}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "table.csv"),
                "data file 'table.csv' does not exist");
}

TEST_CASE("valid .npy and CSV splits compile", "[diagnostics]") {
  TempDir dir;
  const std::string model = dir.file("model.yaml");
  writeNpy(dir.file("x.npy"), "<f4", {5, 2, 2}, 4);
  writeNpy(dir.file("y.npy"), "<i8", {5}, 8);
  writeFile(dir.file("data.csv"), "a,b,label,c,d\n1,2,0,3,4\n5,6,2,7,8\n");
  for (const std::string split :
       {"{x: x.npy, y: y.npy}", "{csv: data.csv, label: 2}"}) {
    INFO(split);
    gradc::ModelSpec spec = parse(withSplit(split), model);
    CHECK_NOTHROW(gradc::buildForwardGraph(spec));
  }
  gradc::ModelSpec spec = parse(withSplit("{csv: data.csv, label: 2}"), model);
  CHECK(spec.data.train.csv == dir.file("data.csv"));
  CHECK(spec.data.train.labelColumn == 2);
}

TEST_CASE(".npy inputs that do not fit the input", "[diagnostics]") {
  TempDir dir;
  const std::string model = dir.file("model.yaml");
  writeNpy(dir.file("x.npy"), "<f4", {5, 6}, 4);
  writeNpy(dir.file("y.npy"), "<i8", {5}, 8);
  std::string text = withSplit("{x: x.npy, y: y.npy}");
  expectErrorIn(model, text, 2, 8,
                "'input' is [4] (4 values), but each sample of data.train.x "
                "[5, 6] has 6 values");
}

TEST_CASE("a .npy file that is not one the trainer reads", "[diagnostics]") {
  TempDir dir;
  const std::string model = dir.file("model.yaml");
  writeNpy(dir.file("y.npy"), "<i8", {5}, 8);
  writeFile(dir.file("x.npy"), "x1,x2\n1,2\n");
  std::string text = withSplit("{x: x.npy, y: y.npy}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "x.npy"),
                "data.train.x '" + dir.file("x.npy") +
                    "' cannot be used: it is not a .npy file");
  writeNpy(dir.file("x.npy"), "<f2", {5, 4}, 2);
  expectErrorIn(model, text, 8, columnOf(text, 8, "x.npy"),
                "its dtype '<f2' is not one the trainer reads");
  writeNpy(dir.file("x.npy"), "<f4", {5, 4}, 4);
  writeNpy(dir.file("y.npy"), "<i8", {5}, 8, 1);
  expectErrorIn(model, text, 8, columnOf(text, 8, "y.npy"),
                "it holds fewer values than its header says");
}

TEST_CASE(".npy targets that do not fit the loss", "[diagnostics]") {
  TempDir dir;
  const std::string model = dir.file("model.yaml");
  writeNpy(dir.file("x.npy"), "<f4", {5, 4}, 4);
  std::string text = withSplit("{x: x.npy, y: y.npy}");

  writeNpy(dir.file("y.npy"), "<i8", {4}, 8);
  expectErrorIn(model, text, 8, columnOf(text, 8, "y.npy"),
                "data.train has 5 samples in x but 4 in y");
  writeNpy(dir.file("y.npy"), "<f4", {5}, 4);
  expectErrorIn(model, text, 8, columnOf(text, 8, "y.npy"),
                "data.train.y holds floats ('<f4'), but "
                "softmax_cross_entropy needs integer class ids",
                "y.astype('int64')");
  writeNpy(dir.file("y.npy"), "<i4", {5, 3}, 4);
  expectErrorIn(model, text, 8, columnOf(text, 8, "y.npy"),
                "data.train.y has the shape [5, 3], but softmax_cross_entropy "
                "needs one class id per sample");

  text = withSplit("{x: x.npy, y: y.npy}", "mse");
  writeNpy(dir.file("y.npy"), "<f4", {5, 2}, 4);
  expectErrorIn(model, text, 8, columnOf(text, 8, "y.npy"),
                "each sample of data.train.y [5, 2] has 2 values, but the "
                "last layer 'layer0' has 3 outputs",
                "the output's shape");
  writeNpy(dir.file("y.npy"), "<f8", {5, 3}, 8);
  CHECK_NOTHROW(gradc::buildForwardGraph(parse(text, model)));
}

TEST_CASE("a CSV label column past the last column", "[diagnostics]") {
  TempDir dir;
  const std::string model = dir.file("model.yaml");
  writeFile(dir.file("data.csv"), "1,2,3,4,0\n5,6,7,8,1\n");
  std::string text = withSplit("{csv: data.csv, label: 5}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "5}"),
                "'label' is column 5, but data.train.csv has 5 columns",
                "columns count from 0, so the last is 4");
  text = withSplit("{csv: data.csv, label: -1}");
  expectErrorIn(model, text, 8, columnOf(text, 8, "-1"),
                "'label' is -1, but it must be between 0 and");
}

TEST_CASE("CSV rows that do not fit the input", "[diagnostics]") {
  TempDir dir;
  const std::string model = dir.file("model.yaml");
  writeFile(dir.file("data.csv"), "a,b,c,label\n1,2,3,0\n");
  std::string text = withSplit("{csv: data.csv, label: 3}");
  expectErrorIn(model, text, 2, 8,
                "'input' is [4] (4 values), but each row of data.train.csv "
                "has 3 feature columns (4 columns less the label)");
}

TEST_CASE("a CSV file without data rows", "[diagnostics]") {
  TempDir dir;
  const std::string model = dir.file("model.yaml");
  std::string text = withSplit("{csv: data.csv, label: 0}");
  writeFile(dir.file("data.csv"), "label,a,b,c,d\n");
  expectErrorIn(model, text, 8, columnOf(text, 8, "data.csv"),
                "cannot be used: it holds a header line but no data");
  writeFile(dir.file("data.csv"), "\n\n");
  expectErrorIn(model, text, 8, columnOf(text, 8, "data.csv"),
                "cannot be used: it is empty");
  writeFile(dir.file("data.csv"), "label,a,b,c,d\n1,2,3\n");
  expectErrorIn(model, text, 8, columnOf(text, 8, "data.csv"),
                "its header line has 5 columns but the row after it has 3");
}
