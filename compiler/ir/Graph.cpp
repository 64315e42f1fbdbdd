//===- Graph.cpp - The static computation graph ---------------------------===//
//
// Node creation and the text form printed by `gradc --emit graph`. The
// text is what golden tests compare, so it is stable: nodes print in
// order, one per line, with their type and the layer they belong to.
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"

#include <iomanip>
#include <ostream>
#include <sstream>

namespace gradc {

NodeId Graph::add(OpKind op, std::vector<NodeId> inputs, Role role,
                  const std::string &layer, Attrs attrs) {
  std::vector<TensorType> types;
  for (NodeId id : inputs)
    types.push_back(type(id));
  TensorType result = inferType(op, types, attrs);
  return addTyped(op, std::move(inputs), std::move(result), role, layer,
                  std::move(attrs));
}

NodeId Graph::addTyped(OpKind op, std::vector<NodeId> inputs,
                       TensorType type, Role role, const std::string &layer,
                       Attrs attrs) {
  for (NodeId id : inputs)
    internalCheck(id >= 0 && id < static_cast<NodeId>(nodes.size()),
                  std::string("'") + opName(op) + "' uses a missing node");
  Node node;
  node.id = static_cast<NodeId>(nodes.size());
  node.op = op;
  node.inputs = std::move(inputs);
  node.type = std::move(type);
  node.role = role;
  node.layer = layer;
  node.attrs = std::move(attrs);
  nodes.push_back(std::move(node));
  return nodes.back().id;
}

const char *roleName(Role role) {
  switch (role) {
  case Role::Forward:
    return "forward";
  case Role::Loss:
    return "loss";
  case Role::Backward:
    return "backward";
  case Role::Update:
    return "update";
  }
  return "?";
}

std::string describeNode(const Graph &graph, const Node &node) {
  std::ostringstream text;
  text << "%" << node.id << " = " << opName(node.op);
  if (node.param >= 0 && node.op == OpKind::Parameter)
    text << " '" << graph.params[node.param].name << "'";
  for (size_t i = 0; i < node.inputs.size(); ++i)
    text << (i ? ", %" : " %") << node.inputs[i];
  if (node.op == OpKind::Fused) {
    // "fused %2, %3 [s0 = bias_add %2, %3; s1 = relu s0]"
    const char *separator = " [";
    for (size_t i = 0; i < node.steps.size(); ++i) {
      const FusedStep &step = node.steps[i];
      text << separator << "s" << i << " = " << opName(step.op);
      for (size_t k = 0; k < step.operands.size(); ++k) {
        int operand = step.operands[k];
        text << (k ? ", " : " ");
        if (operand >= 0)
          text << "%" << node.inputs.at(operand);
        else
          text << "s" << -1 - operand;
      }
      for (const auto &[name, value] : step.attrs)
        text << " " << name << "=" << value;
      separator = "; ";
    }
    text << "]";
  }
  if (!node.attrs.empty()) {
    const char *separator = " {";
    for (const auto &[name, value] : node.attrs) {
      text << separator << name << "=" << value;
      separator = ", ";
    }
    text << "}";
  }
  text << " : " << node.type.str();
  return text.str();
}

void printGraph(const Graph &graph, std::ostream &out) {
  out << "graph '" << graph.name << "'\n";

  out << "params:\n";
  for (const Param &param : graph.params)
    out << "  '" << param.name << "' " << param.type.str() << " fan_in "
        << param.fanIn << " fan_out " << param.fanOut << "\n";

  // Nodes print in order; a role header starts each run of one role.
  std::optional<Role> current;
  for (const Node &node : graph.nodes) {
    if (node.role != current) {
      current = node.role;
      out << roleName(node.role) << ":\n";
    }
    std::string line = "  " + describeNode(graph, node);
    if (!node.layer.empty()) {
      line.resize(std::max<size_t>(line.size() + 1, 56), ' ');
      line += "# " + node.layer;
    }
    out << line << "\n";
  }

  out << "results:\n";
  out << "  output %" << graph.output << "\n";
  out << "  loss %" << graph.lossNode << "\n";
  for (const Param &param : graph.params)
    if (!param.isBuffer)
      out << "  grad '" << param.name << "' %" << param.grad
          << "  squared_norm %" << param.sqNorm << "\n";
}

} // namespace gradc
