//===- GraphForm.cpp - Residual blocks and the graph: form ----------------===//
//
// The parts of the graph builder that go beyond a chain: residual blocks,
// which add a block's input to its output, and the graph: form, whose
// nodes name their inputs and may be listed in any order. Both report
// shape mismatches naming both sides, at the YAML location of the node.
//
//===----------------------------------------------------------------------===//
#include "ir/GraphBuilderImpl.h"

#include "frontend/YamlReader.h"

#include <map>
#include <set>

namespace gradc::detail {

NodeId GraphBuilder::addResidual(const LayerSpec &block, NodeId x) {
  NodeId y = x;
  for (const LayerSpec &inner : block.nested)
    y = addRecordedLayer(inner, y);

  if (graph.type(y) != graph.type(x))
    userError(block.loc,
              "residual block '" + block.name +
                  "' adds its input to its "
                  "output, so they need one shape, but its input is " +
                  graph.type(x).str() + " and its last layer '" +
                  block.nested.back().name + "' gives " + graph.type(y).str());
  return graph.add(OpKind::Add, {x, y}, Role::Forward, block.name);
}

NodeId GraphBuilder::addCombination(const LayerSpec &node) {
  std::vector<TensorType> types;
  for (NodeId id : nodeInputs)
    types.push_back(graph.type(id));

  if (node.op == "add" || node.op == "mul") {
    if (types[0] != types[1])
      userError(node.loc, "'" + node.op + "' needs inputs of one shape, but '" +
                              node.inputs[0] + "' is " + types[0].str() +
                              " and '" + node.inputs[1] + "' is " +
                              types[1].str());
    return graph.add(node.op == "add" ? OpKind::Add : OpKind::Mul, nodeInputs,
                     Role::Forward, node.name);
  }

  // concat: every axis but the joined one must agree.
  auto rank = static_cast<int64_t>(types[0].dims.size());
  int64_t axis = node.axis < 0 ? node.axis + rank : node.axis;
  if (axis < 0 || axis >= rank)
    userError(node.loc, "'concat' axis " + std::to_string(node.axis) +
                            " does not exist in '" + node.inputs[0] +
                            "', whose samples are " + types[0].str());
  for (size_t i = 1; i < types.size(); ++i) {
    TensorType other = types[i];
    bool sameRank = other.dims.size() == types[0].dims.size();
    if (sameRank)
      other.dims[axis] = types[0].dims[axis];
    if (!sameRank || other != types[0])
      userError(node.loc, "'concat' along axis " + std::to_string(axis) +
                              " needs inputs that agree on every other "
                              "axis, but '" +
                              node.inputs[0] + "' is " + types[0].str() +
                              " and '" + node.inputs[i] + "' is " +
                              types[i].str());
  }
  return graph.add(OpKind::Concat, nodeInputs, Role::Forward, node.name,
                   {{"axis", static_cast<double>(axis)}});
}

NodeId GraphBuilder::addGraphForm(NodeId input) {
  std::map<std::string, const LayerSpec *> byName;
  std::vector<std::string> known = {"input"};
  for (const LayerSpec &node : spec.layers) {
    byName[node.name] = &node;
    known.push_back(node.name);
  }
  auto mustExist = [&](const std::string &name, const SourceLoc &loc,
                       const std::string &role) {
    if (name == "input" || byName.count(name))
      return;
    std::string suggestion = closestWord(name, known);
    userError(loc, role + " '" + name + "' is not a node of the graph",
              suggestion.empty() ? "nodes are named by their 'name'; the "
                                   "model input is 'input'"
                                 : "did you mean '" + suggestion + "'?");
  };
  mustExist(spec.output, spec.outputLoc, "the output");

  // Depth-first from the output, with an explicit stack so that a long
  // chain of nodes cannot exhaust the call stack. A node on the stack
  // that is reached again closes a cycle.
  std::map<std::string, NodeId> built = {{"input", input}};
  std::set<std::string> onStack;
  std::vector<std::string> stack = {spec.output};
  while (!stack.empty()) {
    const std::string name = stack.back();
    if (built.count(name)) {
      stack.pop_back();
      continue;
    }
    const LayerSpec &node = *byName.at(name);
    onStack.insert(name);

    bool ready = true;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const std::string &from = node.inputs[i];
      mustExist(from, node.inputLocs[i], "input");
      if (built.count(from))
        continue;
      if (onStack.count(from))
        userError(node.inputLocs[i],
                  "the graph has a cycle: '" + name + "' needs '" + from +
                      "', which needs '" + name + "' in turn",
                  "a graph: model must be acyclic; feed state through "
                  "rnn or lstm layers instead");
      stack.push_back(from);
      ready = false;
    }
    if (!ready)
      continue;

    nodeInputs.clear();
    for (const std::string &from : node.inputs)
      nodeInputs.push_back(built.at(from));
    built[name] = addRecordedLayer(node, nodeInputs[0]);
    onStack.erase(name);
    stack.pop_back();
  }

  for (const LayerSpec &node : spec.layers)
    if (!built.count(node.name))
      userError(node.loc,
                "node '" + node.name +
                    "' does not lead to the "
                    "output '" +
                    spec.output + "'",
                "remove it, or make the output depend on it");
  return built.at(spec.output);
}

} // namespace gradc::detail
