//===- Graph.h - The static computation graph ------------------*- C++ -*-===//
//
// A Graph is a list of nodes in an order where every node comes after its
// inputs. The builder adds the forward and loss nodes; autodiff appends
// the backward and update nodes to the same graph. Parameters and layers
// are kept beside the nodes because the trainer reports by them.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_IR_GRAPH_H
#define GRADC_IR_GRAPH_H

#include "frontend/ModelSpec.h"
#include "ir/Op.h"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

using NodeId = int;

// Which part of a training step a node belongs to. The forward function
// of the generated code runs Forward nodes, and Loss nodes when targets
// are given; the training step runs them all.
enum class Role { Forward, Loss, Backward, Update };

// One op of a fused node (OpKind::Fused), applied element by element.
// An operand k >= 0 is the fused node's input k; k < 0 is the result of
// step -1 - k, an earlier step.
struct FusedStep {
  OpKind op = OpKind::Add;
  std::vector<int> operands;
  Attrs attrs;
};

struct Node {
  NodeId id = -1;
  OpKind op = OpKind::Input;
  std::vector<NodeId> inputs;
  TensorType type;
  Role role = Role::Forward;
  Attrs attrs;
  int param = -1;    // Parameter, SquaredNorm: index into Graph::params
  std::string layer; // the layer the node was made for, for dumps
  std::vector<FusedStep> steps; // Fused: its ops in order; the last is
                                // the node's value
};

struct Param {
  std::string name; // "<layer>.<param>"
  TensorType type;
  int layer = -1;
  InitSpec init;
  int64_t fanIn = 0;
  int64_t fanOut = 0;
  bool isBuffer = false; // state such as running statistics: no gradient
  NodeId node = -1;     // its Parameter node
  NodeId grad = -1;     // the node holding d loss / d param
  NodeId sqNorm = -1;   // the squared norm of that gradient
};

struct Layer {
  std::string name;
  std::string op;
  std::string detail; // "units=256 activation=relu"
  TensorType output;
  int64_t numParams = 0;
  SourceLoc loc;
};

class Graph {
public:
  std::string name;
  LossKind loss = LossKind::SoftmaxCrossEntropy;
  std::vector<Node> nodes;
  std::vector<Param> params;
  std::vector<Layer> layers;

  NodeId input = -1;
  NodeId labels = -1;  // softmax cross-entropy's targets
  NodeId targets = -1; // mse's targets
  NodeId output = -1;  // the model's prediction
  NodeId lossNode = -1;

  // Adds a node whose type follows from its inputs' by the op's rule.
  NodeId add(OpKind op, std::vector<NodeId> inputs, Role role,
             const std::string &layer, Attrs attrs = {});
  // Adds a node of the given type: leaves and reshapes.
  NodeId addTyped(OpKind op, std::vector<NodeId> inputs, TensorType type,
                  Role role, const std::string &layer, Attrs attrs = {});

  const Node &node(NodeId id) const { return nodes.at(id); }
  const TensorType &type(NodeId id) const { return nodes.at(id).type; }
};

// The name of a role as the printed forms head its nodes: "forward".
const char *roleName(Role role);

// One node as `--emit graph` prints it: "%3 = relu %2 : [B,256]".
std::string describeNode(const Graph &graph, const Node &node);

// Prints the graph as text, one node per line, grouped by role.
void printGraph(const Graph &graph, std::ostream &out);

// Prints the graph in Graphviz's DOT language: a box per node, clustered
// by role, and an edge from each input to its user.
void printGraphDot(const Graph &graph, std::ostream &out);

} // namespace gradc

#endif // GRADC_IR_GRAPH_H
