//===- KernelProgram.h - The training step as backend-neutral kernels -*-===//
//
// Everything the two code generators share: a planned graph lowered to a
// list of statements, each a kernel call, an elementwise loop or a block
// copy, with every size worked out. A backend only decides how to print a
// statement: the C++ backend as source text calling gradc/kernels.h, the
// LLVM backend as IR calling the precompiled kernels of
// gradc/kernel_exports.h. Sizes that grow with the batch are kept as
// `perSample * B + fixed`, since B is chosen when the trainer runs.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_CODEGEN_KERNELPROGRAM_H
#define GRADC_CODEGEN_KERNELPROGRAM_H

#include "ir/Graph.h"

#include <array>
#include <string>
#include <variant>
#include <vector>

namespace gradc {

// perSample * B + fixed.
struct Extent {
  int64_t perSample = 0;
  int64_t fixed = 0;
};

// One argument of a kernel call.
struct KernelArg {
  enum class Kind {
    Size,     // an int64_t: `size`
    Real,     // a scalar attribute: `real`, converted to the element type
    Salt,     // a uint64_t constant: `salt`
    Tensor,   // a node's storage: `node`
    Window,   // a gradc::WindowShape: `window`
    Seed,     // the call's random seed (gradc_ctx::seed)
    Training, // whether the call trains (gradc_ctx::training)
  };
  Kind kind = Kind::Size;
  Extent size;
  double real = 0;
  uint64_t salt = 0;
  NodeId node = -1;
  std::array<int64_t, 10> window{};
};

// gradc_<kernel>_f32/_f64 precompiled; in C++ the template
// gradc::<cppTemplate, or kernel><T>(args...). A kernel that returns a
// scalar (a loss, a squared norm) stores it in element 0 of `result`.
struct KernelCall {
  std::string kernel;
  std::string cppTemplate; // "rnnScan<T, true>" where the names differ
  std::vector<KernelArg> args;
  NodeId result = -1;
};

// A loop over `rows` rows of `width` elements computing one op, or a fused
// chain of them, per element. Operands are read at the same element, or,
// when broadcast, at the same column of a one-row tensor (a bias). The
// steps are a fused node's (ir/Graph.h): each reads operands and earlier
// steps' results, and the last step's result is stored.
struct ElementwiseLoop {
  Extent rows;
  int64_t width = 1;
  std::vector<NodeId> operands;
  std::vector<bool> broadcast;
  std::vector<FusedStep> steps;
  NodeId output = -1;
};

// output[j] = sum over rows of input[r * width + j].
struct SumRowsLoop {
  Extent rows;
  int64_t width = 1;
  NodeId input = -1;
  NodeId output = -1;
};

// For each of `rows` rows, copies `length` elements from
// from[r * fromStride + fromOffset] to to[r * toStride + toOffset]:
// concat and slice along one axis.
struct BlockCopy {
  Extent rows;
  NodeId from = -1;
  int64_t fromStride = 0;
  int64_t fromOffset = 0;
  NodeId to = -1;
  int64_t toStride = 0;
  int64_t toOffset = 0;
  int64_t length = 0;
};

struct Statement {
  NodeId node = -1; // the graph node it computes, for messages
  std::variant<KernelCall, ElementwiseLoop, SumRowsLoop, BlockCopy> work;
};

// The step in four sections. The output is copied out after `forward`;
// `loss` runs when labels or targets are given; `backward` when training;
// `norms`, the gradients' squared norms, when training with somewhere to
// put them (gradc_ctx::grad_sqnorms).
struct KernelProgram {
  std::vector<Statement> forward;
  std::vector<Statement> loss;
  std::vector<Statement> backward;
  std::vector<Statement> norms;
};

KernelProgram lowerToKernels(const Graph &graph);

// The element count of a node's tensor.
Extent elementCount(const TensorType &type);

// The vocabulary of an embedding that reads the model's input directly,
// or 0: the runtime then checks that inputs are integer ids.
int64_t inputVocabulary(const Graph &graph);

// FNV-1a hash of a layer name: separates the dropout masks of different
// layers, and stays the same when other layers are added.
uint64_t dropoutSalt(const std::string &layer);

} // namespace gradc

#endif // GRADC_CODEGEN_KERNELPROGRAM_H
