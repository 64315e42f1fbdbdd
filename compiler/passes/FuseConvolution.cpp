//===- FuseConvolution.cpp - Bias, relu and relu_grad in conv kernels -----===//
//
// Three patterns. The first two are folded only where the values they
// stop storing have no other reader and are none of the step's results:
//
//   conv2d(x, w) -> channel_bias_add(., b) [-> relu]
//     becomes conv2d_bias(x, w, b) {relu=1 when the relu was folded}.
//     Legal in a training graph because conv2d's gradient reads x and w,
//     not its output, and relu_grad reads the relu's output, which the
//     fused node still stores.
//
//   relu_grad(maxpool2d_grad(dy, y), y)
//     becomes maxpool2d_grad(dy, y) {positive=1}. y is a relu's output
//     that the pool reads; relu_grad keeps the pool's gradient where
//     y > 0, a mask the pool's kernel applies itself while it writes dx.
//
//   channel_sum(maxpool2d_grad(dy, x) [{positive=1}])
//     becomes channel_sum(dy), or positive_channel_sum(dy, y) with y the
//     pool's output, maxpool2d(x). The pool's gradient puts each window's
//     dy on one element of the window, which positive=1 keeps where it is
//     > 0, and that element is the window's maximum, y. So a
//     convolution's bias gradient reads the pooled gradient, and y,
//     instead of the pool's gradient, which the convolution's own
//     gradients still read: for a 2x2 pool, half as many values. Only
//     for windows that do not overlap, which make dy and y smaller than
//     the pool's input, and only where the backward pass reads y anyway,
//     so that no value is kept longer than before.
//
// The fused node takes the place of the last node of its pattern, so
// every reader of that value keeps reading it, and all of its inputs come
// before it. The pass runs before FuseElementwise, which could otherwise
// fold a relu_grad into a chain of elementwise steps.
//
//===----------------------------------------------------------------------===//
#include "passes/FuseConvolution.h"

#include "passes/GraphEdits.h"

#include <string>
#include <utility>

namespace gradc {

namespace {

class ConvolutionFusion {
public:
  explicit ConvolutionFusion(Graph &graph)
      : graph(graph), pinned(pinnedValues(graph)),
        removed(graph.nodes.size(), false), soleReader(graph.nodes.size(), -1) {
    const std::vector<int> readers = countReaders(graph);
    for (const Node &node : graph.nodes)
      for (NodeId input : node.inputs)
        soleReader[input] = readers[input] == 1 ? node.id : -1;
  }

  int run() {
    int folds = 0;
    for (Node &node : graph.nodes) {
      if (node.op == OpKind::ChannelBiasAdd)
        folds += foldBias(node);
      else if (node.op == OpKind::ReluGrad)
        folds += foldReluGrad(node);
      else if (node.op == OpKind::ChannelSum)
        folds += foldChannelSum(node);
    }
    if (folds > 0)
      removeNodes(graph, removed);
    return folds;
  }

private:
  // Whether `id`'s value may go unstored: `reader` is all that reads it.
  bool onlyFeeds(NodeId id, const Node &reader) const {
    const Node &node = graph.nodes[id];
    return soleReader[id] == reader.id && !pinned[id] &&
           node.role == reader.role;
  }

  // conv2d -> channel_bias_add [-> relu], seen from the bias add.
  int foldBias(Node &bias) {
    Node &conv = graph.nodes[bias.inputs[0]];
    if (conv.op != OpKind::Conv2d || !onlyFeeds(conv.id, bias))
      return 0;
    Node *last = &bias;
    const NodeId next = soleReader[bias.id];
    if (next >= 0 && graph.nodes[next].op == OpKind::Relu &&
        onlyFeeds(bias.id, graph.nodes[next]))
      last = &graph.nodes[next];

    Attrs attrs = conv.attrs;
    if (last != &bias)
      attrs["relu"] = 1;
    const std::vector<NodeId> inputs = {conv.inputs[0], conv.inputs[1],
                                        bias.inputs[1]};
    removed[conv.id] = true;
    if (last != &bias)
      removed[bias.id] = true;
    replace(*last, OpKind::Conv2dBias, inputs, attrs, conv.layer);
    return last != &bias ? 2 : 1;
  }

  // relu_grad(maxpool2d_grad(dy, y), y).
  int foldReluGrad(Node &reluGrad) {
    Node &pool = graph.nodes[reluGrad.inputs[0]];
    const NodeId y = reluGrad.inputs[1];
    if (pool.op != OpKind::MaxPool2dGrad || pool.inputs[1] != y ||
        pool.attrs.count("positive") || !onlyFeeds(pool.id, reluGrad))
      return 0;
    Attrs attrs = pool.attrs;
    attrs["positive"] = 1;
    removed[pool.id] = true;
    replace(reluGrad, OpKind::MaxPool2dGrad, pool.inputs, attrs, pool.layer);
    return 1;
  }

  // channel_sum(maxpool2d_grad(dy, x)), after foldReluGrad has given the
  // pool's gradient its positive=1.
  int foldChannelSum(Node &sum) {
    const Node &pool = graph.nodes[sum.inputs[0]];
    if (pool.op != OpKind::MaxPool2dGrad ||
        pool.attrs.at("stride") < pool.attrs.at("size"))
      return 0;
    const bool positive = pool.attrs.count("positive") == 1;
    Attrs forwardAttrs = pool.attrs;
    forwardAttrs.erase("positive");
    std::vector<NodeId> inputs = {pool.inputs[0]};
    if (positive) {
      const NodeId y = findMaxPool(pool.inputs[1], forwardAttrs);
      if (y < 0 || !readInBackward(y))
        return 0;
      inputs.push_back(y);
    }
    replace(sum, positive ? OpKind::PositiveChannelSum : OpKind::ChannelSum,
            inputs, sum.attrs, sum.layer);
    return 1;
  }

  // Whether a backward node reads `id`, or a reshape of it, which shares
  // its memory.
  bool readInBackward(NodeId id) const {
    for (const Node &node : graph.nodes)
      for (NodeId input : node.inputs)
        if (input == id &&
            (node.role == Role::Backward ||
             (node.op == OpKind::Reshape && readInBackward(node.id))))
          return true;
    return false;
  }

  // The maxpool2d of x with these attributes, or -1.
  NodeId findMaxPool(NodeId x, const Attrs &attrs) const {
    for (const Node &node : graph.nodes)
      if (node.op == OpKind::MaxPool2d && node.inputs[0] == x &&
          node.attrs == attrs)
        return node.id;
    return -1;
  }

  // Turns `node` into the fused op, checking its type against the op's
  // shape rule: a fold must not change what the value is.
  void replace(Node &node, OpKind op, std::vector<NodeId> inputs, Attrs attrs,
               const std::string &layer) {
    std::vector<TensorType> types;
    for (NodeId input : inputs)
      types.push_back(graph.type(input));
    internalCheck(inferType(op, types, attrs) == node.type,
                  std::string("folding into '") + opName(op) +
                      "' changed a value's type");
    node.op = op;
    node.inputs = std::move(inputs);
    node.attrs = std::move(attrs);
    node.steps.clear();
    node.layer = layer;
  }

  Graph &graph;
  const std::vector<bool> pinned;
  std::vector<bool> removed;
  // For each node read by exactly one input of one node, that node.
  std::vector<NodeId> soleReader;
};

} // namespace

int fuseConvolution(Graph &graph) { return ConvolutionFusion(graph).run(); }

} // namespace gradc
