//===- GradientFlow.cpp - Static gradient-flow analysis -------------------===//
//
// Propagates the second moment of the activations forward through the
// layers at initialization, then multiplies the per-layer backward gains
// from the output back to the input. The approximations, all standard in
// signal-propagation theory (mean-field, independent weights):
//  - a dense or conv2d layer's backward gain is sqrt(fan_out * s^2) for
//    weights of variance s^2, and its output variance is
//    fan_in * s^2 * E[x^2] + the bias variance;
//  - an activation's gain is sqrt(E[phi'(z)^2]) with z ~ N(0, q), q the
//    pre-activation variance; it passes E[phi(z)^2] forward;
//  - batchnorm and layernorm rescale to unit variance: gain 1/sqrt(v),
//    v the spread of one unit over a batch (each unit's mean, such as
//    that of sigmoid outputs passed through the weights, does not count);
//  - an activation's batch mean is E[phi(z)], shared by all units;
//  - dropout at rate p scales both ways by 1/sqrt(1 - p) in training;
//  - flatten and maxpool keep the norm (maxpool routes each gradient to
//    one input); an avgpool of size k spreads it over k*k inputs: 1/k;
//  - a residual block's gain is sqrt(1 + gain_f^2), the two paths taken
//    as independent;
//  - sequence layers and the graph form's joins are taken as gain 1.
//
//===----------------------------------------------------------------------===//
#include "analysis/GradientFlow.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>
#include <set>

namespace gradc {

namespace {

constexpr double kVanishing = 1e-4;
constexpr double kExploding = 1e4;
// Outputs this large at initialization explode the first steps whatever
// the backward products: a softmax over logits a hundred apart is all on
// one class, its loss is about that size, and the weight gradients scale
// with the activations that fed them. Well-initialized networks start
// near 1.
constexpr double kExplodingOutput = 1e2;

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

double normalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

bool isActivation(const std::string &op) {
  return op == "relu" || op == "sigmoid" || op == "tanh" ||
         op == "leaky_relu" || op == "elu" || op == "gelu" || op == "softplus";
}

// The statistics of one activation element at initialization: its second
// moment over units and samples, its spread over a batch for one unit,
// and the batch mean that all units share (nonzero after sigmoid, say).
struct Moments {
  double second = 1;
  double variance = 1;
  double mean = 0;
};

Moments after(const ActivationMoments &a) {
  return {a.valueSquared, a.valueSquared - a.mean * a.mean, a.mean};
}

// What one layer does to the signal, in both directions.
struct Step {
  std::string layer, op;
  double gain = 1;           // backward, output to input
  double activationGain = 1; // the part of `gain` after the weights
  bool hasWeights = false;
  double inputNorm2 = 0; // fan_in * E[x^2]: scales the weight gradient
};

class Analyzer {
public:
  explicit Analyzer(const Graph &graph) {
    for (const Param &param : graph.params)
      params[param.name] = &param;
  }

  // Runs the layers forward from the statistics `m`; returns the new ones.
  Moments chain(const std::vector<LayerSpec> &layers, Moments m,
                std::vector<Step> &steps) {
    for (size_t i = 0; i < layers.size(); ++i) {
      bool normalizedNext =
          i + 1 < layers.size() && layers[i + 1].op == "batchnorm";
      m = one(layers[i], m, normalizedNext, steps);
    }
    return m;
  }

private:
  Moments one(const LayerSpec &layer, Moments m, bool normalizedNext,
              std::vector<Step> &steps) {
    Step step{layer.name, layer.op};
    if (layer.op == "dense" || layer.op == "conv2d") {
      auto weight = params.find(layer.name + ".weight");
      if (weight == params.end()) {
        steps.push_back(step);
        return m;
      }
      const Param &w = *weight->second;
      double s2 = initVariance(w.init, w.fanIn, w.fanOut);
      // PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
      double biasVariance = layer.bias ? 1.0 / (3.0 * w.fanIn) : 0;
      double q = w.fanIn * s2 * m.second + biasVariance;
      step.hasWeights = true;
      // Batchnorm's backward removes the batch mean of the gradient, so
      // the mean of this layer's input no longer adds to the weight
      // gradient.
      step.inputNorm2 = w.fanIn * (normalizedNext ? m.variance : m.second);
      step.gain = std::sqrt(w.fanOut * s2);
      // Each unit's mean and bias are constant over a batch.
      m = {q, w.fanIn * s2 * m.variance, 0};
      if (isActivation(layer.activation)) {
        ActivationMoments a =
            activationMoments(layer.activation, layer.alpha, q);
        step.activationGain = std::sqrt(a.slopeSquared);
        step.gain *= step.activationGain;
        m = after(a);
      }
      if (!layer.activation.empty())
        step.op += "+" + layer.activation;
    } else if (isActivation(layer.op)) {
      ActivationMoments a = activationMoments(layer.op, layer.alpha, m.second);
      step.gain = std::sqrt(a.slopeSquared);
      m = after(a);
    } else if (layer.op == "batchnorm" || layer.op == "layernorm") {
      // It divides by the spread over the batch, which leaves out each
      // unit's mean.
      step.gain = m.variance > 0 ? 1 / std::sqrt(m.variance) : 1;
      m = {1, 1, 0};
    } else if (layer.op == "dropout") {
      double keep = 1 - layer.rate;
      step.gain = keep > 0 ? 1 / std::sqrt(keep) : 1;
      if (keep > 0)
        m = {m.second / keep, m.second / keep - m.mean * m.mean, m.mean};
    } else if (layer.op == "avgpool2d") {
      double k = static_cast<double>(layer.kernel);
      step.gain = k > 0 ? 1 / k : 1;
      if (k > 0)
        m = {m.mean * m.mean + m.variance / (k * k), m.variance / (k * k),
             m.mean};
    } else if (layer.op == "residual") {
      std::vector<Step> inner;
      Moments mf = chain(layer.nested, m, inner);
      double gf = 1;
      for (const Step &s : inner)
        gf *= s.gain;
      step.gain = std::sqrt(1 + gf * gf);
      m = {m.second + mf.second, m.variance + mf.variance, m.mean + mf.mean};
    } else if (layer.op != "flatten" && layer.op != "maxpool2d") {
      unmodelled.insert(layer.op);
    }
    // The batchnorm pass moves a layer's activation after the
    // normalization.
    if (layer.op != "dense" && layer.op != "conv2d" &&
        isActivation(layer.activation)) {
      ActivationMoments a =
          activationMoments(layer.activation, layer.alpha, m.second);
      step.gain *= std::sqrt(a.slopeSquared);
      m = after(a);
      step.op += "+" + layer.activation;
    }
    steps.push_back(step);
    return m;
  }

  std::map<std::string, const Param *> params;

public:
  std::set<std::string> unmodelled; // ops taken as gain 1
};

// The second moment of one input element, from what the data section
// says; Fashion-MNIST and MNIST pixels have known statistics.
Moments inputMoments(const DataSpec &data, std::string &note) {
  if (data.normalize) {
    note = "inputs normalized: E[x^2] = 1";
    return {1, 1, 0};
  }
  const std::string &images = data.train.images;
  double mean = 0, sd = 0;
  if (images.find("fashion") != std::string::npos) {
    mean = 0.286, sd = 0.353;
    note = "Fashion-MNIST pixels";
  } else if (images.find("mnist") != std::string::npos) {
    mean = 0.1307, sd = 0.3081;
    note = "MNIST pixels";
  } else {
    note = "input scale unknown: E[x^2] = 1 assumed";
    return {1, 1, 0};
  }
  // The statistics are of pixels in [0, 1]; `scale` maps from [0, 255].
  double factor = data.scale * 255;
  Moments m{(mean * mean + sd * sd) * factor * factor,
            sd * sd * factor * factor, mean * factor};
  char text[64];
  std::snprintf(text, sizeof text, " scaled by %g: E[x^2] = %.3g", data.scale,
                m.second);
  note += text;
  return m;
}

bool usesSaturating(const std::vector<LayerSpec> &layers) {
  for (const LayerSpec &layer : layers) {
    if (layer.op == "sigmoid" || layer.op == "tanh" ||
        layer.activation == "sigmoid" || layer.activation == "tanh")
      return true;
    if (usesSaturating(layer.nested))
      return true;
  }
  return false;
}

bool has(const std::vector<LayerSpec> &layers, const std::string &op) {
  for (const LayerSpec &layer : layers)
    if (layer.op == op || has(layer.nested, op))
      return true;
  return false;
}

bool usesDefaultInit(const std::vector<LayerSpec> &layers) {
  for (const LayerSpec &layer : layers)
    if ((layer.op == "dense" || layer.op == "conv2d") &&
        layer.init.kind == InitKind::Default)
      return true;
  return false;
}

// A figure of the estimate as text. Deep enough chains of large or small
// gains run past what a double holds; those say so rather than print
// inf, nan or 0.
std::string figure(double value, int digits = 2) {
  if (std::isnan(value) || std::isinf(value))
    return "beyond the range of doubles (over 1e308)";
  if (value == 0)
    return "below the range of doubles (under 1e-308)";
  char text[32];
  std::snprintf(text, sizeof text, "%.*g", digits, value);
  return text;
}

void conclude(const ModelSpec &spec, FlowReport &report, double lowest,
              double highest, const std::set<std::string> &unmodelled) {
  char text[200];
  if (lowest < kVanishing) {
    std::snprintf(text, sizeof text,
                  "gradients vanish: the backward signal reaching the "
                  "input side is %s times that at the output",
                  figure(lowest).c_str());
    report.conclusions.push_back(text);
    if (usesSaturating(spec.layers))
      report.conclusions.push_back(
          "sigmoid and tanh shrink the gradient at every layer: use a "
          "relu-family activation (relu, leaky_relu, elu, gelu)");
    if (usesDefaultInit(spec.layers))
      report.conclusions.push_back(
          "PyTorch's default init shrinks the signal by sqrt(1/3) per "
          "layer: use init: he_normal with relu-family activations");
    if (!has(spec.layers, "batchnorm"))
      report.conclusions.push_back("add a batchnorm layer after each "
                                   "hidden dense layer, or compile with "
                                   "--batchnorm");
    if (!has(spec.layers, "residual"))
      report.conclusions.push_back(
          "wrap layers in residual blocks, or compile with --residual");
  }
  // A NaN size (an overflowed estimate) counts as exploding.
  const bool outputExplodes = !(report.outputRms <= kExplodingOutput);
  if (highest > kExploding) {
    std::snprintf(text, sizeof text,
                  "gradients explode: the backward signal grows to %s "
                  "times that at the output",
                  figure(highest).c_str());
    report.conclusions.push_back(text);
  }
  if (outputExplodes) {
    std::snprintf(text, sizeof text,
                  "activations explode: the outputs start at a typical "
                  "size of %s, and the first steps' gradients are as "
                  "large",
                  figure(report.outputRms).c_str());
    report.conclusions.push_back(text);
  }
  if ((highest > kExploding || outputExplodes) &&
      spec.passes.clip.kind == ClipKind::None)
    report.conclusions.push_back(
        "clip the gradient with --clip-norm 1, use a smaller init "
        "(xavier_normal, he_normal) or add batchnorm (--batchnorm)");
  else if (highest > kExploding || outputExplodes)
    report.conclusions.push_back(
        "the gradient is clipped, which bounds each step; a smaller init "
        "(xavier_normal, he_normal) or batchnorm (--batchnorm) would remove "
        "the cause");
  if (lowest >= kVanishing && highest <= kExploding && !outputExplodes) {
    // Layers taken as gain 1 may still shrink or grow the gradient: a
    // recurrence does so once per step of the sequence.
    std::snprintf(text, sizeof text,
                  "gradient flow looks healthy%s: the running product stays "
                  "between %.2g and %.2g",
                  unmodelled.empty() ? "" : " through the layers modelled",
                  lowest, highest);
    report.conclusions.push_back(text);
    for (const std::string &op : unmodelled)
      report.conclusions.push_back(
          "'" + op + "' layers are not analysed" +
          (op == "rnn" || op == "lstm"
               ? ": the gradient through the steps of a sequence can "
                 "still vanish or explode"
               : ""));
  }
}

} // namespace

double gaussianExpectation(const std::function<double(double)> &f,
                           double variance) {
  if (!(variance > 0))
    return f(0);
  // The midpoint rule over [-12, 12] standard deviations (the tails
  // beyond carry under 1e-30 of the mass). An even number of cells puts
  // zero on a cell boundary, so the relu family's step there costs no
  // accuracy.
  const int n = 4800;
  const double lo = -12, hi = 12, h = (hi - lo) / n;
  double sd = std::sqrt(variance), sum = 0;
  for (int i = 0; i < n; ++i) {
    double u = lo + (i + 0.5) * h;
    sum += f(sd * u) * std::exp(-0.5 * u * u);
  }
  return sum * h / std::sqrt(2 * M_PI);
}

ActivationMoments activationMoments(const std::string &activation, double alpha,
                                    double variance) {
  std::function<double(double)> phi, slope;
  if (activation == "relu") {
    phi = [](double z) { return z > 0 ? z : 0; };
    slope = [](double z) { return z > 0 ? 1.0 : 0.0; };
  } else if (activation == "leaky_relu") {
    phi = [alpha](double z) { return z > 0 ? z : alpha * z; };
    slope = [alpha](double z) { return z > 0 ? 1.0 : alpha; };
  } else if (activation == "elu") {
    phi = [alpha](double z) { return z > 0 ? z : alpha * std::expm1(z); };
    slope = [alpha](double z) { return z > 0 ? 1.0 : alpha * std::exp(z); };
  } else if (activation == "sigmoid") {
    phi = sigmoid;
    slope = [](double z) { return sigmoid(z) * (1 - sigmoid(z)); };
  } else if (activation == "tanh") {
    phi = [](double z) { return std::tanh(z); };
    slope = [](double z) { return 1 - std::tanh(z) * std::tanh(z); };
  } else if (activation == "gelu") {
    phi = [](double z) { return z * normalCdf(z); };
    slope = [](double z) {
      return normalCdf(z) + z * std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
    };
  } else if (activation == "softplus") {
    phi = [](double z) { return z > 30 ? z : std::log1p(std::exp(z)); };
    slope = sigmoid;
  } else {
    // Anything else (softmax) is taken as the identity.
    return {1, variance, 0};
  }
  ActivationMoments moments;
  moments.slopeSquared = gaussianExpectation(
      [&](double z) { return slope(z) * slope(z); }, variance);
  moments.valueSquared =
      gaussianExpectation([&](double z) { return phi(z) * phi(z); }, variance);
  moments.mean = gaussianExpectation(phi, variance);
  return moments;
}

double initVariance(const InitSpec &init, int64_t fanIn, int64_t fanOut) {
  double in = static_cast<double>(fanIn), out = static_cast<double>(fanOut);
  switch (init.kind) {
  case InitKind::Default:
    return in > 0 ? 1 / (3 * in) : 0;
  case InitKind::HeUniform:
  case InitKind::HeNormal:
    return in > 0 ? 2 / in : 0;
  case InitKind::XavierUniform:
  case InitKind::XavierNormal:
    return in + out > 0 ? 2 / (in + out) : 0;
  case InitKind::Normal:
    return init.argument * init.argument;
  case InitKind::Uniform:
    return init.argument * init.argument / 3;
  case InitKind::Zeros:
    return 0;
  case InitKind::Ones:
    return 1;
  }
  return 0;
}

FlowReport analyzeGradientFlow(const ModelSpec &spec, const Graph &graph) {
  FlowReport report;
  Moments input = inputMoments(spec.data, report.inputNote);
  report.inputSecondMoment = input.second;
  Analyzer analyzer(graph);
  std::vector<Step> steps;
  const Moments output = analyzer.chain(spec.layers, input, steps);
  report.outputRms = std::sqrt(output.second);
  report.flagged = !(report.outputRms <= kExplodingOutput);

  // Backward, from the model's output: `product` is the signal at the
  // input of the current layer relative to that at the output.
  double product = 1, lowest = 1, highest = 1;
  int lastWeighted = -1;
  double lastSignal = 0, lastInputNorm2 = 0;
  for (int i = static_cast<int>(steps.size()) - 1; i >= 0; --i) {
    const Step &step = steps[i];
    if (step.hasWeights) {
      // The weight gradient is taken at the pre-activation.
      double signal = product * step.activationGain;
      if (lastWeighted < 0) {
        lastWeighted = i;
        lastSignal = signal;
        lastInputNorm2 = step.inputNorm2;
      } else if (lastSignal > 0) {
        report.firstOverLastSignal = signal / lastSignal;
        report.firstOverLastWeightGrad =
            lastInputNorm2 > 0 ? report.firstOverLastSignal *
                                     std::sqrt(step.inputNorm2 / lastInputNorm2)
                               : 0;
      }
    }
    product *= step.gain;
    lowest = std::min(lowest, product);
    highest = std::max(highest, product);
    FlowRow row{step.layer, step.op, step.gain, product, ""};
    if (product < kVanishing)
      row.flag = "vanishing";
    else if (product > kExploding)
      row.flag = "exploding";
    report.flagged = report.flagged || !row.flag.empty();
    report.rows.push_back(row);
  }
  if (spec.isGraph)
    report.notes.push_back("the graph form is analysed as a chain in file "
                           "order; joins are not modelled");
  for (const std::string &op : analyzer.unmodelled)
    report.notes.push_back("'" + op + "' layers are taken as gain 1");
  conclude(spec, report, lowest, highest, analyzer.unmodelled);
  return report;
}

void printFlowReport(const FlowReport &report, std::ostream &out) {
  char line[160];
  out << "gradient flow at initialization (" << report.inputNote << ")\n";
  std::snprintf(line, sizeof line, "%-20s %-20s %10s %12s  %s\n", "layer", "op",
                "gain", "product", "flag");
  out << line;
  for (const FlowRow &row : report.rows) {
    std::snprintf(line, sizeof line, "%-20s %-20s %10.4g %12.4g  %s\n",
                  row.layer.c_str(), row.op.c_str(), row.gain, row.product,
                  row.flag.c_str());
    out << line;
  }
  if (report.firstOverLastSignal > 0) {
    std::snprintf(line, sizeof line,
                  "first over last weighted layer: signal %s, weight "
                  "gradient norm %s\n",
                  figure(report.firstOverLastSignal, 3).c_str(),
                  figure(report.firstOverLastWeightGrad, 3).c_str());
    out << line;
  }
  std::snprintf(line, sizeof line,
                "outputs at initialization: root mean square %s\n",
                figure(report.outputRms, 3).c_str());
  out << line;
  for (const std::string &note : report.notes)
    out << "note: " << note << "\n";
  for (const std::string &conclusion : report.conclusions)
    out << "- " << conclusion << "\n";
}

} // namespace gradc
