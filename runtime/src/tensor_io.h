// Reading and writing the file formats the trainer touches: IDX (the MNIST
// family, gzip or plain), .npy, and safetensors checkpoints. Every failure
// throws gradc::IoError with the path and what was wrong with it. Each
// format has a file of its own (idx_io.cpp, npy_io.cpp, safetensors_io.cpp);
// the file handling they share is in file_io.cpp.
#ifndef GRADC_RUNTIME_TENSOR_IO_H
#define GRADC_RUNTIME_TENSOR_IO_H

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradc {

struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An IDX file kept in its compact form: uint8 images stay bytes.
struct IdxArray {
  std::vector<int64_t> dims; // dims[0] is the number of items
  std::vector<uint8_t> bytes;
};

// Reads an IDX file of unsigned bytes (type 0x08), gzip-compressed or not.
IdxArray readIdx(const std::string &path);

// A tensor as the trainer exchanges it with other tools.
struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<float> data; // C order
};

// Reads float32, float64, int32, int64, uint8 or int8 .npy (C order) as
// floats. A NaN or infinity in float data is refused, naming the file: it
// would only surface later as a non-finite loss.
HostTensor readNpy(const std::string &path);
// Reads an integer .npy (int32, int64, uint8 or int8) as int32 class ids.
std::vector<int32_t> readNpyLabels(const std::string &path,
                                   std::vector<int64_t> *shape = nullptr);
// Writes float32 .npy atomically.
void writeNpy(const std::string &path, const HostTensor &tensor);

// A safetensors file: F32 tensors and the header's __metadata__ strings.
struct SafeTensors {
  std::map<std::string, HostTensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Reads F32 tensors (F64, F16/BF16 and integer or BOOL tensors, such as
// PyTorch's int64 num_batches_tracked, are converted to float as well).
SafeTensors readSafeTensors(const std::string &path);

// Says, from a tensor's name and shape in the header, whether its data is
// wanted.
using TensorFilter = std::function<bool(const std::string &name,
                                        const std::vector<int64_t> &shape)>;
// Reads the header whole, but the data only of the tensors `wanted`
// accepts; the others are listed with their shape and no data. A reader
// that checks names and shapes against a model thus allocates nothing for
// a tensor it would refuse or ignore, however large the header says it is.
SafeTensors readSafeTensors(const std::string &path,
                            const TensorFilter &wanted);

// Writes F32 tensors in the given order to a new temporary file in path's
// folder, flushes it, then renames it over path, so a crash never leaves a
// half-written file.
void writeSafeTensors(const std::string &path, const SafeTensors &file,
                      const std::vector<std::string> &order = {});

// Replaces path with contents atomically (temporary file, fsync, rename).
void writeFileAtomically(const std::string &path, const std::string &contents);

// Throws unless path is a regular file (or a link to one) that can be
// opened: a FIFO given as input blocks the reader forever, and a device
// or socket is no data set.
void checkInputFile(const std::string &path);
// Throws when path exists but is not a regular file: writing would block
// on a FIFO, and replacing a device node or socket destroys it.
void checkOutputFile(const std::string &path);
// Throws when data of `bytes` bytes, read from path, would take more than
// half of the machine's memory; `what` says what the bytes are.
void checkFitsInMemory(const std::string &path, uint64_t bytes,
                       const std::string &what);

} // namespace gradc

#endif // GRADC_RUNTIME_TENSOR_IO_H
