// Loading a split and cutting it into batches (see dataset.h).
#include "dataset.h"

#include "csv_reader.h"
#include "errors.h"
#include "names.h"
#include "tensor_io.h"

#include <gradc/parallel.h>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gradc {

float InputTransform::apply(double value) const {
  double scaled = value * scale;
  if (normalize)
    scaled = (scaled - mean) / std;
  return static_cast<float>(scaled);
}

namespace {

// Runs a tensor_io read and turns its failure into a message that says
// which file of which split it was and where that path came from.
template <typename Read>
auto readOrExplain(Read read, const std::string &what, const DataFiles &files)
    -> decltype(read()) {
  try {
    return read();
  } catch (const IoError &failure) {
    throw UserError(fmt::format("cannot read the {}: {}", what, failure.what()),
                    fmt::format("the path came from {}", files.origin));
  }
}

void checkSampleSize(const gradc_model &model, const std::string &what,
                     const std::string &path,
                     std::span<const int64_t> sample_shape) {
  const int64_t sample_size = elementCount(sample_shape);
  if (sample_size == model.input_size)
    return;
  throw UserError(
      fmt::format("the {} in '{}' have the shape {} ({} each), but the "
                  "model's input is {} ({})",
                  what, path, formatShape(sample_shape),
                  countOf(sample_size, "value"),
                  formatShape(model.input_rank, model.input_shape),
                  countOf(model.input_size, "value")),
      "give data made for this model, or build a model whose input has as "
      "many values");
}

void readInputs(const gradc_model &model, const DataFiles &files,
                const InputTransform &transform, Dataset &data) {
  const std::string what = data.split + " inputs";
  if (files.kind == FileKind::Idx) {
    IdxArray images =
        readOrExplain([&] { return readIdx(files.inputs); }, what, files);
    const std::span<const int64_t> dims(images.dims);
    data.count = dims.empty() ? 0 : dims[0];
    checkSampleSize(model, what, files.inputs, dims.subspan(1));
    data.raw_inputs = std::move(images.bytes);
    data.byte_values.resize(256);
    for (int value = 0; value < 256; ++value)
      data.byte_values[value] = transform.apply(value);
  } else {
    HostTensor tensor =
        readOrExplain([&] { return readNpy(files.inputs); }, what, files);
    if (tensor.shape.empty())
      throw UserError(
          fmt::format("the {} in '{}' are a single number", what, files.inputs),
          "the first axis counts the samples: [N, ...]");
    const std::span<const int64_t> shape(tensor.shape);
    data.count = shape[0];
    checkSampleSize(model, what, files.inputs, shape.subspan(1));
    data.inputs = std::move(tensor.data);
    for (float &value : data.inputs)
      value = transform.apply(value);
  }
  data.sample_size = model.input_size;
}

void checkTargetCount(const Dataset &data, const DataFiles &files,
                      int64_t count) {
  if (count == data.count)
    return;
  throw UserError(fmt::format("'{}' holds {}, but '{}' holds {}", files.targets,
                              countOf(count, data.split + " target"),
                              files.inputs,
                              countOf(data.count, data.split + " input")),
                  "inputs and targets must come in pairs, one per sample");
}

// Floats that stand for class ids, as an mse model's .npy of shape [N]
// would hold them.
std::vector<int32_t> classIdsFromFloats(const HostTensor &tensor,
                                        const std::string &path) {
  std::vector<int32_t> ids;
  ids.reserve(tensor.data.size());
  for (size_t i = 0; i < tensor.data.size(); ++i) {
    const float value = tensor.data[i];
    if (!(value >= 0 && value < 2147483648.0f) || std::floor(value) != value)
      throw UserError(
          fmt::format("'{}' holds {} at item {}, which is not a class id", path,
                      value, i),
          "give one target per output for each sample, or class ids");
    ids.push_back(static_cast<int32_t>(value));
  }
  return ids;
}

void readTargets(const gradc_model &model, const DataFiles &files,
                 Dataset &data) {
  const std::string what = data.split + " targets";
  if (files.kind == FileKind::Idx) {
    IdxArray labels =
        readOrExplain([&] { return readIdx(files.targets); }, what, files);
    const std::span<const int64_t> dims(labels.dims);
    checkTargetCount(data, files, dims.empty() ? 0 : dims[0]);
    if (dims.empty() || elementCount(dims.subspan(1)) != 1)
      throw UserError(fmt::format("'{}' has the shape {}, but labels are one "
                                  "class id per sample",
                                  files.targets, formatShape(dims)),
                      "give an IDX file of shape [N]");
    data.labels.assign(labels.bytes.begin(), labels.bytes.end());
    return;
  }

  if (model.loss == GRADC_LOSS_SOFTMAX_CROSS_ENTROPY) {
    std::vector<int64_t> shape;
    data.labels = readOrExplain(
        [&] { return readNpyLabels(files.targets, &shape); }, what, files);
    checkTargetCount(data, files, shape.empty() ? 0 : shape[0]);
    if (static_cast<int64_t>(data.labels.size()) != data.count)
      throw UserError(fmt::format("'{}' has the shape {}, but class ids are "
                                  "one per sample",
                                  files.targets, formatShape(shape)),
                      "give an integer .npy of shape [N]");
    return;
  }

  HostTensor tensor =
      readOrExplain([&] { return readNpy(files.targets); }, what, files);
  checkTargetCount(data, files, tensor.shape.empty() ? 0 : tensor.shape[0]);
  const int64_t per_sample =
      data.count == 0 ? 0
                      : static_cast<int64_t>(tensor.data.size()) / data.count;
  if (per_sample == model.output_size) {
    data.targets = std::move(tensor.data);
  } else if (per_sample == 1) {
    data.labels = classIdsFromFloats(tensor, files.targets);
  } else {
    throw UserError(
        fmt::format("'{}' has the shape {}, but the model has {} outputs",
                    files.targets, formatShape(tensor.shape),
                    model.output_size),
        fmt::format("give [N, {}] targets, or [N] class ids",
                    model.output_size));
  }
}

void checkClassIds(const gradc_model &model, const DataFiles &files,
                   const Dataset &data) {
  for (size_t i = 0; i < data.labels.size(); ++i) {
    const int32_t label = data.labels[i];
    if (label >= 0 && label < model.output_size)
      continue;
    throw UserError(fmt::format("'{}' holds the class {} at item {}, but the "
                                "model has {} outputs",
                                files.targets, label, i, model.output_size),
                    "class ids count from 0 and must name one of the "
                    "model's outputs");
  }
}

// A CSV split: the label column is the target, the other columns the
// input.
void readCsvSplit(const gradc_model &model, const DataFiles &files,
                  const InputTransform &transform, Dataset &data) {
  const CsvTable table = readOrExplain(
      [&] { return readCsv(files.inputs); }, data.split + " data", files);
  const int64_t label = files.label_column;
  if (label < 0 || label >= table.columns)
    throw UserError(fmt::format("'{}' has {}, so column {} cannot be the "
                                "label",
                                files.inputs, countOf(table.columns, "column"),
                                label),
                    fmt::format("columns count from 0; the label column came "
                                "from {}",
                                files.origin));
  if (table.columns - 1 != model.input_size)
    throw UserError(
        fmt::format("the rows of '{}' have {} ({} less the label), but the "
                    "model's input is {} ({})",
                    files.inputs, countOf(table.columns - 1, "feature column"),
                    countOf(table.columns, "column"),
                    formatShape(model.input_rank, model.input_shape),
                    countOf(model.input_size, "value")),
        "give data made for this model, or build a model whose input has as "
        "many values");

  // The label is a class id unless the model predicts one number that is
  // not a class score.
  const bool class_ids = model.loss == GRADC_LOSS_SOFTMAX_CROSS_ENTROPY ||
                         model.output_size != 1;
  data.count = table.rows;
  data.sample_size = model.input_size;
  data.inputs.reserve(static_cast<size_t>(table.rows * model.input_size));
  for (int64_t row = 0; row < table.rows; ++row) {
    const float *values = table.values.data() + row * table.columns;
    for (int64_t column = 0; column < table.columns; ++column)
      if (column != label)
        data.inputs.push_back(transform.apply(values[column]));

    const float target = values[label];
    if (!class_ids) {
      data.targets.push_back(target);
      continue;
    }
    if (!(target >= 0 && target < static_cast<float>(model.output_size)) ||
        std::floor(target) != target)
      throw UserError(
          fmt::format("'{}' holds {} in the label column {} of data row {}, "
                      "which is not a class id of the model's {} outputs",
                      files.inputs, target, label, row + 1,
                      model.output_size),
          "class ids are whole numbers that count from 0");
    data.labels.push_back(static_cast<int32_t>(target));
  }
}

} // namespace

Dataset loadDataset(const gradc_model &model, const DataFiles &files,
                    const InputTransform &transform, const std::string &split) {
  Dataset data;
  data.split = split;
  if (files.kind == FileKind::Csv) {
    readCsvSplit(model, files, transform, data);
    return data;
  }
  readInputs(model, files, transform, data);
  if (model.config->targets_are_inputs)
    return data; // each sample is its own target; labels play no part
  readTargets(model, files, data);
  checkClassIds(model, files, data);
  return data;
}

const int32_t *Batch::labelsOrNull() const {
  return labels.empty() ? nullptr : labels.data();
}

const float *Batch::targetsOrNull() const {
  return targets.empty() ? nullptr : targets.data();
}

void gatherBatch(const gradc_model &model, const Dataset &data,
                 std::span<const int64_t> indices, Batch &batch) {
  const int64_t count = static_cast<int64_t>(indices.size());
  const int64_t sample_size = data.sample_size;
  batch.count = count;

  // The rows are split over threads from a quarter of the usual least
  // work: a batch of 64 images (50k values) took a tenth of mlp_fashion's
  // step on one thread, and the other waited.
  batch.x.resize(static_cast<size_t>(count * sample_size));
  float *x = batch.x.data();
  const float *table = data.byte_values.data();
  parallelRanges(
      count, count * sample_size,
      [&](int64_t first, int64_t last) {
        for (int64_t row = first; row < last; ++row) {
          float *to = x + row * sample_size;
          const int64_t from = indices[row] * sample_size;
          if (data.raw_inputs.empty()) {
            std::copy_n(data.inputs.data() + from, sample_size, to);
            continue;
          }
          // The samples lie at random in a large array: asking for the
          // bytes of the one after next hides most of the wait for memory.
          if (row + 2 < last) {
            const uint8_t *ahead =
                data.raw_inputs.data() + indices[row + 2] * sample_size;
            for (int64_t at = 0; at < sample_size; at += 64)
              __builtin_prefetch(ahead + at);
          }
          const uint8_t *raw = data.raw_inputs.data() + from;
          for (int64_t i = 0; i < sample_size; ++i)
            to[i] = table[raw[i]];
        }
      },
      kParallelMinWork / 4);

  batch.labels.clear();
  batch.targets.clear();
  if (model.config->targets_are_inputs) {
    batch.targets = batch.x;
    return;
  }
  if (data.hasClasses())
    for (int64_t index : indices)
      batch.labels.push_back(data.labels[index]);

  if (model.loss == GRADC_LOSS_SOFTMAX_CROSS_ENTROPY)
    return;
  const int64_t outputs = model.output_size;
  batch.targets.assign(static_cast<size_t>(count * outputs), 0.0f);
  for (int64_t row = 0; row < count; ++row) {
    float *to = batch.targets.data() + row * outputs;
    if (data.hasClasses()) {
      // An mse or bce_with_logits model trained on class ids learns their
      // one-hot encoding over the outputs, as a Keras user would write it.
      to[batch.labels[row]] = 1.0f;
    } else {
      std::copy_n(data.targets.data() + indices[row] * outputs, outputs, to);
    }
  }
}

} // namespace gradc
