//===- GraphDot.cpp - The graph in Graphviz's DOT language ----------------===//
//
// `gradc --emit dot` writes the graph for `dot -Tsvg`: one box per node,
// labelled as `--emit graph` prints it, the boxes of each role in a
// cluster of their own, and an edge from every input to its user.
// Parameters are ellipses, and the loss and the gradients say what they
// are, so that the backward graph reads as the chain rule it is.
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"

#include <map>
#include <ostream>
#include <string>

namespace gradc {

// `text` as the body of a DOT string. Names come from the model file, so
// a quote, a backslash or a line break in one must not end the string or
// start an escape; other control characters become '?'. Breaks that the
// label wants are added after, as "\n".
static std::string quoted(const std::string &text) {
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\')
      escaped += '\\';
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
    escaped += c;
  }
  return escaped;
}

// A fused node's steps go one to a line, where the text form separates
// them with "; ".
static std::string labelOf(const Graph &graph, const Node &node,
                           const std::string &note) {
  std::string label;
  const std::string text = quoted(describeNode(graph, node));
  for (size_t at = 0; at < text.size(); ++at) {
    if (node.op == OpKind::Fused && text.compare(at, 2, "; ") == 0) {
      label += "\\n  ";
      ++at;
      continue;
    }
    label += text[at];
  }
  if (!node.layer.empty())
    label += "\\n(" + quoted(node.layer) + ")";
  if (!note.empty())
    label += "\\n" + quoted(note);
  return label;
}

void printGraphDot(const Graph &graph, std::ostream &out) {
  // What a node is for beyond its op: the loss, the prediction, and the
  // gradient or squared norm of a parameter.
  std::map<NodeId, std::string> notes;
  notes[graph.output] = "output";
  notes[graph.lossNode] = "loss";
  for (const Param &param : graph.params) {
    if (param.isBuffer)
      continue;
    notes[param.grad] = "gradient of '" + param.name + "'";
    notes[param.sqNorm] = "squared norm of that gradient";
  }

  out << "digraph \"" << quoted(graph.name) << "\" {\n";
  out << "  node [shape=box, fontname=\"monospace\", fontsize=10];\n";

  for (Role role : {Role::Forward, Role::Loss, Role::Backward, Role::Update}) {
    out << "  subgraph cluster_" << roleName(role) << " {\n";
    out << "    label=\"" << roleName(role) << "\";\n";
    for (const Node &node : graph.nodes) {
      if (node.role != role)
        continue;
      const auto note = notes.find(node.id);
      out << "    n" << node.id << " [label=\""
          << labelOf(graph, node, note == notes.end() ? "" : note->second)
          << "\"";
      if (node.op == OpKind::Parameter)
        out << ", shape=ellipse";
      if (node.id == graph.lossNode)
        out << ", peripheries=2";
      out << "];\n";
    }
    out << "  }\n";
  }

  for (const Node &node : graph.nodes)
    for (NodeId input : node.inputs)
      out << "  n" << input << " -> n" << node.id << ";\n";
  out << "}\n";
}

} // namespace gradc
