//===- ArrayDataCheck.cpp - .npy and CSV data against the model -----------===//
//
// A mismatch between data and model is reported where the user would fix
// it: a sample size that differs from the input at `input`, a target
// that does not fit the loss at `y`, a label column past the last at
// `label`. Softmax cross-entropy reads class ids (an integer .npy of one
// id per sample); mse and bce_with_logits read .npy targets of the
// output's shape. A CSV label is a class id, or the target itself for a
// model with one output; its values are checked when the trainer loads
// them, since that needs the whole file.
//
//===----------------------------------------------------------------------===//
#include "ir/ArrayDataCheck.h"

#include "frontend/DataHeaders.h"

namespace gradc {

namespace {

std::string shapeText(const std::vector<int64_t> &dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

// Values per sample of an array whose first axis counts the samples; the
// header reader has bounded the product.
int64_t perSample(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    count *= shape[i];
  return count;
}

std::string valuesText(int64_t count) {
  return std::to_string(count) + (count == 1 ? " value" : " values");
}

void checkNpy(const ModelSpec &spec, const SplitSpec &split,
              const std::string &name, const ModelEnds &ends) {
  std::string why;
  auto x = readNpySummary(split.x, why);
  if (!x)
    userError(split.xLoc, name + ".x '" + split.x + "' cannot be used: " + why);
  if (x->shape.empty())
    userError(split.xLoc, name + ".x holds a single number",
              "its first axis counts the samples: [N, ...]");
  if (perSample(x->shape) != ends.inputElements)
    userError(spec.inputLoc, "'input' is " + shapeText(spec.input) + " (" +
                                 valuesText(ends.inputElements) +
                                 "), but each sample of " + name + ".x " +
                                 shapeText(x->shape) + " has " +
                                 valuesText(perSample(x->shape)));

  auto y = readNpySummary(split.y, why);
  if (!y)
    userError(split.yLoc, name + ".y '" + split.y + "' cannot be used: " + why);
  int64_t samples = y->shape.empty() ? 0 : y->shape[0];
  if (y->shape.empty() || samples != x->shape[0])
    userError(split.yLoc,
              name + " has " + std::to_string(x->shape[0]) +
                  " samples in x but " +
                  (y->shape.empty() ? std::string("a single number")
                                    : std::to_string(samples)) +
                  " in y",
              "x and y hold one sample per row, in the same order");

  if (spec.loss == LossKind::SoftmaxCrossEntropy) {
    if (!y->isInteger)
      userError(split.yLoc,
                name + ".y holds floats ('" + y->descr +
                    "'), but softmax_cross_entropy needs integer class ids",
                "save them as integers, e.g. np.save(path, "
                "y.astype('int64'))");
    if (perSample(y->shape) != 1)
      userError(split.yLoc,
                name + ".y has the shape " + shapeText(y->shape) +
                    ", but softmax_cross_entropy needs one class id per "
                    "sample",
                "give [N] class ids; for one-hot rows, their argmax");
    return;
  }
  if (perSample(y->shape) != ends.outputElements)
    userError(split.yLoc,
              "each sample of " + name + ".y " + shapeText(y->shape) + " has " +
                  valuesText(perSample(y->shape)) + ", but the last layer '" +
                  ends.lastLayer + "' has " +
                  std::to_string(ends.outputElements) + " outputs",
              "the targets of this loss have the output's shape");
}

void checkCsv(const ModelSpec &spec, const SplitSpec &split,
              const std::string &name, const ModelEnds &ends) {
  std::string why;
  auto csv = readCsvSummary(split.csv, why);
  if (!csv)
    userError(split.csvLoc,
              name + ".csv '" + split.csv + "' cannot be used: " + why);
  if (split.labelColumn >= csv->columns)
    userError(split.labelLoc,
              "'label' is column " + std::to_string(split.labelColumn) +
                  ", but " + name + ".csv has " + std::to_string(csv->columns) +
                  (csv->columns == 1 ? " column" : " columns"),
              "columns count from 0, so the last is " +
                  std::to_string(csv->columns - 1));
  int64_t features = csv->columns - 1;
  if (features != ends.inputElements)
    userError(spec.inputLoc,
              "'input' is " + shapeText(spec.input) + " (" +
                  valuesText(ends.inputElements) + "), but each row of " +
                  name + ".csv has " + std::to_string(features) +
                  " feature columns (" + std::to_string(csv->columns) +
                  " columns less the label)",
              "the columns other than 'label' are the input");
}

} // namespace

void checkArrayData(const ModelSpec &spec, const SplitSpec &split,
                    const std::string &splitName, const ModelEnds &ends) {
  std::string name = "data." + splitName;
  if (!split.x.empty())
    checkNpy(spec, split, name, ends);
  else if (!split.csv.empty())
    checkCsv(spec, split, name, ends);
}

} // namespace gradc
