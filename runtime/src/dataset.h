// Training and test data as the model sees it. IDX images stay bytes in
// memory and are converted batch by batch through a 256-entry table
// (x * scale, then (x - mean) / std when normalize is set), so a data set
// costs one byte per value. .npy inputs are converted once when loaded.
// Class ids are int32; for a model trained with mse or bce_with_logits they
// become one-hot targets batch by batch. A CSV row is one sample: the
// label column holds its class id, or its target when the model has a
// single output and a loss other than softmax cross-entropy; the other
// columns, in order, are its input, converted once when loaded.
#ifndef GRADC_RUNTIME_DATASET_H
#define GRADC_RUNTIME_DATASET_H

#include "gradc/abi.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gradc {

enum class FileKind { Idx, Npy, Csv };

// Where one split comes from.
struct DataFiles {
  std::string inputs;  // the CSV file for FileKind::Csv
  std::string targets; // empty for FileKind::Csv
  FileKind kind = FileKind::Idx;
  std::string origin; // "--train-images" or "the model file", for hints
  int64_t label_column = -1; // FileKind::Csv: the target's column
};

struct InputTransform {
  double scale = 1.0;
  bool normalize = false;
  double mean = 0.0;
  double std = 1.0;

  float apply(double value) const;
};

struct Dataset {
  std::string split; // "training" or "test", for messages
  int64_t count = 0;
  int64_t sample_size = 0;

  std::vector<uint8_t> raw_inputs; // IDX bytes, converted per batch
  std::vector<float> byte_values;  // what each byte value converts to
  std::vector<float> inputs;       // .npy inputs, already converted

  std::vector<int32_t> labels; // class ids, or empty
  std::vector<float> targets;  // count * output_size floats, or empty

  // Accuracy means something when the targets are classes.
  bool hasClasses() const { return !labels.empty(); }
};

// Reads a split and checks it against the model: values per sample, one
// label or target per sample, class ids within the outputs.
Dataset loadDataset(const gradc_model &model, const DataFiles &files,
                    const InputTransform &transform, const std::string &split);

// One batch, laid out as gradc_ctx_f32 wants it.
struct Batch {
  int64_t count = 0;
  std::vector<float> x;
  std::vector<int32_t> labels;
  std::vector<float> targets;

  const int32_t *labelsOrNull() const;
  const float *targetsOrNull() const;
};

// Fills `batch` with the samples at `indices`, in that order.
void gatherBatch(const gradc_model &model, const Dataset &data,
                 std::span<const int64_t> indices, Batch &batch);

} // namespace gradc

#endif // GRADC_RUNTIME_DATASET_H
