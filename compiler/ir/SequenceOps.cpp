//===- SequenceOps.cpp - Shape rules of the sequence ops ------------------===//
//
// Like every shape rule, these trust nothing: a mismatch is an internal
// error naming the op and its inputs, since the graph builder has already
// reported every shape mistake a model file can hold.
//
//===----------------------------------------------------------------------===//
#include "ir/SequenceOps.h"

#include "frontend/Diagnostics.h"

namespace gradc {

// A batch of sequences [B, T, K].
static bool isSequence(const TensorType &type) {
  return type.batched && type.dims.size() == 2;
}

// A weight matrix [rows, columns].
static bool isMatrix(const TensorType &type, int64_t rows, int64_t columns) {
  return !type.batched && type.dims == std::vector<int64_t>{rows, columns};
}

TensorType inferSequenceType(OpKind op, const std::vector<TensorType> &in) {
  switch (op) {
  case OpKind::RnnTanhScan:
  case OpKind::RnnReluScan:
    // pre [B,T,H], W_hh [H,H] -> [B,T,H]
    expectShapeRule(isSequence(in[0]) &&
                        isMatrix(in[1], in[0].dims[1], in[0].dims[1]),
                    op, in);
    return in[0];

  case OpKind::RnnTanhScanGrad:
  case OpKind::RnnReluScanGrad:
    // dh [B,T,H], h [B,T,H], W_hh [H,H] -> [B,T,H]
    expectShapeRule(isSequence(in[0]) && in[1] == in[0] &&
                        isMatrix(in[2], in[0].dims[1], in[0].dims[1]),
                    op, in);
    return in[0];

  case OpKind::LstmScan: {
    // pre [B,T,4H], W_hh [4H,H] -> state [B,T,6H]
    expectShapeRule(isSequence(in[0]) && in[0].dims[1] % 4 == 0, op, in);
    int64_t hidden = in[0].dims[1] / 4;
    expectShapeRule(isMatrix(in[1], 4 * hidden, hidden), op, in);
    return batchedType({in[0].dims[0], 6 * hidden});
  }

  case OpKind::LstmScanGrad: {
    // dstate [B,T,6H], state [B,T,6H], W_hh [4H,H] -> dpre [B,T,4H]
    expectShapeRule(
        isSequence(in[0]) && in[1] == in[0] && in[0].dims[1] % 6 == 0, op, in);
    int64_t hidden = in[0].dims[1] / 6;
    expectShapeRule(isMatrix(in[2], 4 * hidden, hidden), op, in);
    return batchedType({in[0].dims[0], 4 * hidden});
  }

  case OpKind::LstmHidden:
    // state [B,T,6H] -> h [B,T,H]
    expectShapeRule(isSequence(in[0]) && in[0].dims[1] % 6 == 0, op, in);
    return batchedType({in[0].dims[0], in[0].dims[1] / 6});

  case OpKind::LstmHiddenGrad:
    // dh [B,T,H] -> dstate [B,T,6H]
    expectShapeRule(isSequence(in[0]), op, in);
    return batchedType({in[0].dims[0], 6 * in[0].dims[1]});

  case OpKind::LastStep:
    // x [B,T,K] -> [B,K]
    expectShapeRule(isSequence(in[0]), op, in);
    return batchedType({in[0].dims[1]});

  case OpKind::Embedding:
    // ids [B,T], W [V,D] -> [B,T,D]
    expectShapeRule(in[0].batched && in[0].dims.size() == 1 && !in[1].batched &&
                        in[1].dims.size() == 2,
                    op, in);
    return batchedType({in[0].dims[0], in[1].dims[1]});

  default:
    break;
  }
  throw InternalError(std::string("op '") + opName(op) +
                      "' has no shape rule; its type must be given");
}

} // namespace gradc
