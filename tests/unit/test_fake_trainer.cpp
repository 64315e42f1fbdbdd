// Drives a trainer built from the hand-written model in fake_model.cpp
// through its command line, as a user would: gradcheck, one step against
// values worked out here, training on a generated IDX data set, save and
// resume against an uninterrupted run, the gradient log, and the errors a
// user can cause. Each test works in a folder of its own under the build
// tree, left behind for inspection.
#include "fake_trainer.h"
#include "tensor_io.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace fs = std::filesystem;
using gradc::HostTensor;
using gradc::SafeTensors;

namespace {

using namespace fake_trainer;

std::vector<nlohmann::json> readMetrics(const std::string &path) {
  std::vector<nlohmann::json> records;
  for (const std::string &line : lines(readText(path)))
    records.push_back(nlohmann::json::parse(line));
  return records;
}

bool sameBits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](float x, float y) {
           return std::memcmp(&x, &y, sizeof x) == 0;
         });
}

} // namespace

TEST_CASE("gradcheck passes on correct gradients", "[trainer]") {
  const Workspace work("gradcheck_passes");
  for (const char *env : {"", "GRADC_FAKE_LOSS=mse"}) {
    INFO(env);
    const Outcome outcome = work.run("gradcheck", env);
    INFO(outcome.out << outcome.err);
    CHECK(outcome.status == 0);
    CHECK(outcome.out.find("double precision") != std::string::npos);
    CHECK(outcome.out.find("fc.weight") != std::string::npos);
    CHECK(outcome.out.find("gradcheck passed") != std::string::npos);
  }
}

TEST_CASE("gradcheck catches a wrong gradient", "[trainer]") {
  const Workspace work("gradcheck_fails");
  const Outcome outcome =
      work.run("gradcheck --batch 3 --seed 11", "GRADC_FAKE_WRONG_GRAD=1");
  INFO(outcome.out << outcome.err);
  CHECK(outcome.status == 1);
  CHECK(outcome.out.find("FAILED") != std::string::npos);
  CHECK(outcome.out.find("gradcheck failed: 1 of 2 parameters") !=
        std::string::npos);
}

TEST_CASE("step writes the loss, the gradients and the updated parameters",
          "[trainer]") {
  const Workspace work("step");

  // Parameters, inputs and class ids chosen by hand.
  const std::vector<double> weight = {0.1, -0.2, 0.3,  0.0, -0.1, 0.2,
                                      0.4, 0.1,  0.05, 0.3, -0.3, 0.2};
  const std::vector<double> bias = {0.01, -0.02, 0.03};
  const std::vector<double> x = {1.0, 0.5, -0.5, 2.0, -1.0, 0.25, 0.75, 0.0};
  const std::vector<int64_t> y = {2, 0};
  SafeTensors start;
  start.tensors["fc.weight"] = {
      {3, 4}, std::vector<float>(weight.begin(), weight.end())};
  start.tensors["fc.bias"] = {{3},
                              std::vector<float>(bias.begin(), bias.end())};
  gradc::writeSafeTensors(work.file("start.safetensors"), start);
  gradc::writeNpy(work.file("x.npy"),
                  {{2, 4}, std::vector<float>(x.begin(), x.end())});
  writeInt64Npy(work.file("y.npy"), y);

  const Outcome outcome =
      work.run("step --load start.safetensors --x x.npy --y y.npy --dump "
               "dump.safetensors --lr 0.5");
  INFO(outcome.out << outcome.err);
  REQUIRE(outcome.status == 0);
  const SafeTensors dump =
      gradc::readSafeTensors(work.file("dump.safetensors"));

  // The same step in double: softmax cross-entropy averaged over the two
  // samples, dz = (p - onehot) / 2, dW = dz^T x, db = sum dz. The optimizer
  // is fresh, so with momentum 0.9 its buffer starts as the gradient and
  // p - lr * g is the new parameter.
  double loss = 0;
  std::vector<double> grad_weight(12, 0.0);
  std::vector<double> grad_bias(3, 0.0);
  for (int i = 0; i < 2; ++i) {
    double logits[3];
    double total = 0;
    for (int k = 0; k < 3; ++k) {
      logits[k] = bias[k];
      for (int j = 0; j < 4; ++j)
        logits[k] += weight[k * 4 + j] * x[i * 4 + j];
      total += std::exp(logits[k]);
    }
    loss += (std::log(total) - logits[y[i]]) / 2;
    for (int k = 0; k < 3; ++k) {
      const double d = (std::exp(logits[k]) / total - (k == y[i])) / 2;
      grad_bias[k] += d;
      for (int j = 0; j < 4; ++j)
        grad_weight[k * 4 + j] += d * x[i * 4 + j];
    }
  }

  const double lr = 0.5;
  REQUIRE(dump.tensors.at("loss").shape == std::vector<int64_t>{1});
  CHECK(dump.tensors.at("loss").data[0] == Approx(loss).epsilon(1e-6));
  REQUIRE(dump.tensors.at("grad.fc.weight").shape ==
          std::vector<int64_t>{3, 4});
  REQUIRE(dump.tensors.at("fc.weight").shape == std::vector<int64_t>{3, 4});
  for (int i = 0; i < 12; ++i) {
    CHECK(dump.tensors.at("grad.fc.weight").data[i] ==
          Approx(grad_weight[i]).margin(1e-6));
    CHECK(dump.tensors.at("fc.weight").data[i] ==
          Approx(weight[i] - lr * grad_weight[i]).margin(1e-6));
  }
  for (int k = 0; k < 3; ++k) {
    CHECK(dump.tensors.at("grad.fc.bias").data[k] ==
          Approx(grad_bias[k]).margin(1e-6));
    CHECK(dump.tensors.at("fc.bias").data[k] ==
          Approx(bias[k] - lr * grad_bias[k]).margin(1e-6));
  }
}

TEST_CASE("training lowers the loss and reports every epoch", "[trainer]") {
  const Workspace work("train");
  writeDataset(work, "train", 62, 1);
  writeDataset(work, "test", 30, 2);

  const Outcome outcome = work.run("train --epochs 5 --lr 0.5 --metrics "
                                   "metrics.jsonl " +
                                   dataArgs());
  INFO(outcome.out << outcome.err);
  REQUIRE(outcome.status == 0);
  CHECK(outcome.err.empty());

  const std::vector<nlohmann::json> metrics =
      readMetrics(work.file("metrics.jsonl"));
  REQUIRE(metrics.size() == 5);
  CHECK(metrics[0]["epoch"] == 1);
  CHECK(metrics[4]["loss"].get<double>() <
        0.5 * metrics[0]["loss"].get<double>());
  CHECK(metrics[4]["test_acc"].get<double>() > 0.9);
  CHECK(metrics[4]["train_acc"].get<double>() > 0.9);
  // 62 samples in batches of 4: 16 steps per epoch, the last one of 2.
  CHECK(metrics[4]["step"] == 80);

  const std::vector<std::string> printed = lines(outcome.out);
  REQUIRE(printed.size() >= 5);
  CHECK(printed[0].rfind("epoch 1/5  loss ", 0) == 0);
  CHECK(printed[4].find("test_acc") != std::string::npos);
  CHECK(outcome.out.find("gradient norms") != std::string::npos);
}

TEST_CASE("an mse model learns one-hot targets from class ids", "[trainer]") {
  const Workspace work("train_mse");
  writeDataset(work, "train", 62, 3);
  writeDataset(work, "test", 30, 4);
  const Outcome outcome = work.run(
      "train --epochs 4 --lr 0.5 --quiet --metrics metrics.jsonl " + dataArgs(),
      "GRADC_FAKE_LOSS=mse");
  INFO(outcome.out << outcome.err);
  REQUIRE(outcome.status == 0);
  CHECK(outcome.out.empty());
  const std::vector<nlohmann::json> metrics =
      readMetrics(work.file("metrics.jsonl"));
  REQUIRE(metrics.size() == 4);
  CHECK(metrics[3]["loss"].get<double>() < metrics[0]["loss"].get<double>());
  CHECK(metrics[3].contains("train_acc"));
  CHECK(metrics[3]["test_acc"].get<double>() > 0.8);
}

TEST_CASE("a resumed run ends bit for bit where an uninterrupted one ends",
          "[trainer]") {
  const Workspace work("resume");
  writeDataset(work, "train", 62, 5);
  writeDataset(work, "test", 30, 6);

  const Outcome whole = work.run("train --epochs 3 --save whole.safetensors "
                                 "--metrics whole.jsonl " +
                                 dataArgs());
  REQUIRE(whole.status == 0);
  // 20 steps stop inside the second epoch of 16 batches.
  const Outcome first = work.run("train --epochs 3 --steps 20 --save "
                                 "part.safetensors --metrics part.jsonl " +
                                 dataArgs());
  INFO(first.out << first.err);
  REQUIRE(first.status == 0);
  CHECK(first.out.find("stopped at step 20, after 4 of 16 batches") !=
        std::string::npos);
  const Outcome rest = work.run("train --epochs 3 --resume part.safetensors "
                                "--save part.safetensors --metrics "
                                "part.jsonl " +
                                dataArgs());
  INFO(rest.out << rest.err);
  REQUIRE(rest.status == 0);

  const SafeTensors expected =
      gradc::readSafeTensors(work.file("whole.safetensors"));
  const SafeTensors resumed =
      gradc::readSafeTensors(work.file("part.safetensors"));
  REQUIRE(expected.tensors.size() == resumed.tensors.size());
  CHECK(expected.tensors.count("optimizer.fc.weight.momentum_buffer") == 1);
  for (const auto &[name, tensor] : expected.tensors) {
    INFO(name);
    REQUIRE(resumed.tensors.count(name) == 1);
    CHECK(resumed.tensors.at(name).shape == tensor.shape);
    CHECK(sameBits(resumed.tensors.at(name).data, tensor.data));
  }
  CHECK(resumed.metadata == expected.metadata);

  // The epoch the interruption split reads the same as the whole one.
  const auto whole_metrics = readMetrics(work.file("whole.jsonl"));
  const auto part_metrics = readMetrics(work.file("part.jsonl"));
  REQUIRE(whole_metrics.size() == 3);
  REQUIRE(part_metrics.size() == 4); // epoch 1, epoch 2 twice, epoch 3
  CHECK(part_metrics[1]["partial"] == true);
  CHECK(part_metrics[2]["loss"] == whole_metrics[1]["loss"]);
  CHECK(part_metrics[3]["loss"] == whole_metrics[2]["loss"]);
  CHECK(part_metrics[3]["test_acc"] == whole_metrics[2]["test_acc"]);
}

TEST_CASE("the gradient log has a row per parameter at the logged steps",
          "[trainer]") {
  const Workspace work("grad_log");
  writeDataset(work, "train", 62, 7);
  const Outcome outcome =
      work.run("train --steps 12 --grad-every 5 --grad-log grads.csv "
               "--train-images train-images.idx --train-labels "
               "train-labels.idx");
  INFO(outcome.out << outcome.err);
  REQUIRE(outcome.status == 0);

  const std::vector<std::string> rows = lines(readText(work.file("grads.csv")));
  REQUIRE(rows.size() == 1 + 3 * 3);
  CHECK(rows[0] == "step,param,grad_norm,weight_norm,flag");
  const char *expected_starts[] = {
      "1,fc.weight,",  "1,fc.bias,",  "1,__global__,",
      "5,fc.weight,",  "5,fc.bias,",  "5,__global__,",
      "10,fc.weight,", "10,fc.bias,", "10,__global__,"};
  for (size_t i = 0; i < 9; ++i) {
    INFO(rows[i + 1]);
    CHECK(rows[i + 1].rfind(expected_starts[i], 0) == 0);
    CHECK(rows[i + 1].substr(rows[i + 1].size() - 3) == ",ok");
  }
  CHECK(outcome.out.find("logged at 3 steps from 1 to 10") !=
        std::string::npos);
}

TEST_CASE("a non-finite gradient stops training before saving", "[trainer]") {
  const Workspace work("nonfinite");
  writeDataset(work, "train", 62, 8);
  const Outcome outcome =
      work.run("train --save model.safetensors --grad-log grads.csv "
               "--train-images train-images.idx --train-labels "
               "train-labels.idx",
               "GRADC_FAKE_NAN_AT_CALL=5");
  INFO(outcome.out << outcome.err);
  CHECK(outcome.status == 1);
  CHECK(outcome.err.find(
            "error: step 5: the gradient of 'fc.bias' is not finite") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(work.file("model.safetensors")));
  CHECK(readText(work.file("grads.csv")).find("5,fc.bias,nan,") !=
        std::string::npos);
}

TEST_CASE("predict, eval and info use a saved checkpoint", "[trainer]") {
  const Workspace work("predict_eval_info");
  writeDataset(work, "train", 62, 9);
  writeDataset(work, "test", 30, 10);
  REQUIRE(work.run("train --epochs 2 --lr 0.5 --quiet --save "
                   "model.safetensors " +
                   dataArgs())
              .status == 0);

  const Outcome eval = work.run("eval --load model.safetensors --test-images "
                                "test-images.idx --test-labels "
                                "test-labels.idx");
  INFO(eval.out << eval.err);
  CHECK(eval.status == 0);
  CHECK(eval.out.rfind("test_loss ", 0) == 0);
  CHECK(eval.out.find("test_acc") != std::string::npos);
  CHECK(eval.out.find("(30 samples)") != std::string::npos);

  gradc::writeNpy(work.file("inputs.npy"),
                  {{5, 2, 2}, std::vector<float>(20, 0.5f)});
  const Outcome predict = work.run("predict --load model.safetensors --input "
                                   "inputs.npy --output outputs.npy");
  INFO(predict.out << predict.err);
  CHECK(predict.status == 0);
  const HostTensor outputs = gradc::readNpy(work.file("outputs.npy"));
  CHECK(outputs.shape == std::vector<int64_t>{5, 3});

  const Outcome info = work.run("info");
  CHECK(info.status == 0);
  CHECK(info.out.find("fc.weight") != std::string::npos);
  CHECK(info.out.find("total parameters: 15") != std::string::npos);
  // 3 floats a sample; the hand-written table records no lower bound.
  CHECK(info.out.find("workspace at batch 4: 48 bytes") != std::string::npos);
  CHECK(work.run("info --batch 10").out.find("workspace at batch 10: 120 "
                                             "bytes") != std::string::npos);
  CHECK(info.out.find("lower bound: not recorded") != std::string::npos);
}

TEST_CASE("user mistakes end in one message and status 1", "[trainer]") {
  const Workspace work("user_errors");
  writeDataset(work, "train", 10, 11);

  struct Case {
    std::string args;
    std::string message;
  };
  const Case cases[] = {
      {"train --train-images missing.idx --train-labels train-labels.idx",
       "missing.idx"},
      {"train", "no training data"},
      {"train --epochs -3", "error: --epochs"},
      {"train --no-such-option", "error:"},
      {"train --train-images train-images.idx", "--train-labels"},
      {"eval --load missing.safetensors --test-images train-images.idx "
       "--test-labels train-labels.idx",
       "missing.safetensors"},
      {"train --train-images train-labels.idx --train-labels "
       "train-labels.idx",
       "the model's input is [4]"},
  };
  for (const Case &each : cases) {
    INFO(each.args);
    const Outcome outcome = work.run(each.args);
    INFO(outcome.err);
    CHECK(outcome.status == 1);
    CHECK(outcome.err.find(each.message) != std::string::npos);
    CHECK(outcome.err.find("internal error") == std::string::npos);
  }
}

TEST_CASE("loading names the first tensor that does not fit", "[trainer]") {
  const Workspace work("load_mismatch");
  writeDataset(work, "test", 10, 12);
  SafeTensors wrong;
  wrong.tensors["fc.weight"] = {{4, 4}, std::vector<float>(16, 0.0f)};
  wrong.tensors["fc.bias"] = {{3}, std::vector<float>(3, 0.0f)};
  gradc::writeSafeTensors(work.file("wrong.safetensors"), wrong);

  const Outcome outcome = work.run("eval --load wrong.safetensors "
                                   "--test-images test-images.idx "
                                   "--test-labels test-labels.idx");
  CHECK(outcome.status == 1);
  CHECK(outcome.err.find("'fc.weight' the shape [4, 4], but the model's is "
                         "[3, 4]") != std::string::npos);
}
