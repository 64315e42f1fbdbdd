// Drives the fake trainer with hostile input: checkpoints whose training
// position does not fit the run, FIFOs in the place of every file it reads
// or writes, checkpoints with tensors it does not need or bytes it cannot
// account for, option values out of range, and data that is not finite.
// Each must end in one message and status 1, without hanging, crashing or
// training on nonsense.
#include "fake_trainer.h"
#include "tensor_io.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using gradc::HostTensor;
using gradc::SafeTensors;

namespace {

using namespace fake_trainer;

// 10 samples in batches of 4: 3 batches an epoch, the last one of 2.
std::string trainArgs() {
  return "--train-images train-images.idx --train-labels train-labels.idx";
}

// Half of the machine's memory, the most the trainer reads into memory.
uint64_t memoryBudget() {
  return static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) / 2 *
         static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::string littleEndian64(uint64_t value) {
  std::string bytes;
  for (int i = 0; i < 8; ++i)
    bytes += static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(file.good());
}

} // namespace

TEST_CASE("resume refuses a training position that does not fit the run",
          "[trainer]") {
  const Workspace work("resume_position");
  writeDataset(work, "train", 10, 21);
  // Five steps stop after two of the second epoch's three batches.
  const Outcome first = work.run(
      "train --epochs 3 --steps 5 --save part.safetensors " + trainArgs());
  INFO(first.out << first.err);
  REQUIRE(first.status == 0);
  const SafeTensors saved =
      gradc::readSafeTensors(work.file("part.safetensors"));
  REQUIRE(saved.metadata.at("batch_in_epoch") == "2");
  REQUIRE(saved.metadata.at("seen") == "8");

  struct Case {
    std::string key;
    std::string value;
    std::string message;
  };
  const std::string notWhole = "', not a whole number from 0 to ";
  const Case cases[] = {
      {"batch_in_epoch", "-3",
       "'batch_in_epoch' in its metadata is '-3" + notWhole},
      {"batch_in_epoch", "3",
       "it stopped after 3 batches of epoch 2, but this run has 3 epochs "
       "of 3 batches"},
      {"batch_in_epoch", "4611686018427387904",
       "'4611686018427387904" + notWhole},
      {"epoch", "-5", "'epoch' in its metadata is '-5" + notWhole},
      {"epoch", "4", "had finished 4 epochs, more than the 3 of this run"},
      {"epoch", "3", "it stopped after 2 batches of epoch 4"},
      {"epoch", " 1", "'epoch' in its metadata is ' 1'"},
      {"epoch", "+1", "'epoch' in its metadata is '+1'"},
      {"epoch", "1.0", "'epoch' in its metadata is '1.0'"},
      {"epoch", "0x1", "'epoch' in its metadata is '0x1'"},
      {"seed", "-1",
       "'seed' in its metadata is '-1', not a whole number of at least 0"},
      {"seed", "18446744073709551616",
       "'seed' in its metadata is '18446744073709551616'"},
      {"step", "9223372036854775807",
       "'step' in its metadata is '9223372036854775807" + notWhole},
      {"optimizer_step", "-1", "'optimizer_step' in its metadata is '-1"},
      {"batch", "1048577", "'batch' in its metadata is '1048577'"},
      {"correct", "-1", "'correct' in its metadata is '-1" + notWhole},
      {"correct", "9",
       "counts 8 samples, 9 of them right, which 2 batches of 4 cannot give"},
      {"seen", "7", "counts 7 samples"},
      {"loss_sum", "nan",
       "'loss_sum' in its metadata is 'nan', not a finite number"},
      {"loss_sum", "inf", "not a finite number"},
      {"loss_sum", "1e999", "not a finite number"},
  };
  for (const Case &each : cases) {
    INFO(each.key << " = '" << each.value << "'");
    SafeTensors changed = saved;
    changed.metadata[each.key] = each.value;
    gradc::writeSafeTensors(work.file("bad.safetensors"), changed);
    const Outcome outcome = work.run(
        "train --epochs 3 --resume bad.safetensors --save out.safetensors " +
        trainArgs());
    INFO(outcome.out << outcome.err);
    CHECK(outcome.status == 1);
    CHECK(outcome.err.rfind("error: bad.safetensors: ", 0) == 0);
    CHECK(outcome.err.find(each.message) != std::string::npos);
    CHECK(outcome.out.empty());
    CHECK_FALSE(std::filesystem::exists(work.file("out.safetensors")));
  }

  const Outcome rest =
      work.run("train --epochs 3 --resume part.safetensors " + trainArgs());
  INFO(rest.out << rest.err);
  CHECK(rest.status == 0);
}

TEST_CASE("a FIFO in the place of any file is refused without blocking",
          "[trainer]") {
  const Workspace work("fifo_files");
  writeDataset(work, "train", 10, 22);
  writeDataset(work, "test", 10, 23);
  REQUIRE(work.run("train --epochs 1 --quiet --save model.safetensors " +
                   trainArgs())
              .status == 0);
  gradc::writeNpy(work.file("x.npy"), {{2, 2, 2}, std::vector<float>(8)});
  writeInt64Npy(work.file("y.npy"), {0, 2});
  REQUIRE(::mkfifo(work.file("fifo").c_str(), 0600) == 0);

  const std::string step = "step --load model.safetensors ";
  const std::string predict = "predict --load model.safetensors ";
  const std::string inputs[] = {
      "train --train-images fifo --train-labels train-labels.idx",
      "train --train-images train-images.idx --train-labels fifo",
      "train --train-x fifo --train-y y.npy",
      "train --train-csv fifo --train-label-column 0",
      "train --load fifo " + trainArgs(),
      "train --resume fifo " + trainArgs(),
      "eval --load fifo --test-images test-images.idx --test-labels "
      "test-labels.idx",
      predict + "--input fifo --output out.npy",
      step + "--x fifo --y y.npy --dump dump.safetensors",
      step + "--x x.npy --y fifo --dump dump.safetensors",
  };
  for (const std::string &args : inputs) {
    INFO(args);
    const Outcome outcome = work.run(args);
    INFO(outcome.err);
    CHECK(outcome.status == 1);
    CHECK(outcome.err.find("fifo: is a FIFO (named pipe), not a regular "
                           "file; give a file") != std::string::npos);
  }

  const std::string outputs[] = {
      "train --metrics fifo " + trainArgs(),
      "train --grad-log fifo " + trainArgs(),
      "train --save fifo " + trainArgs(),
      predict + "--input x.npy --output fifo",
      step + "--x x.npy --y y.npy --dump fifo",
  };
  for (const std::string &args : outputs) {
    INFO(args);
    const Outcome outcome = work.run(args);
    INFO(outcome.out << outcome.err);
    CHECK(outcome.status == 1);
    CHECK(outcome.err.find("fifo: is a FIFO (named pipe), not a regular "
                           "file; refusing to write over it") !=
          std::string::npos);
    CHECK(outcome.out.empty());
  }
  CHECK(std::filesystem::is_fifo(work.file("fifo")));
}

TEST_CASE("loading a checkpoint reads only the tensors the model has",
          "[trainer]") {
  const Workspace work("load_extra_tensor");
  writeDataset(work, "test", 10, 24);
  SafeTensors params;
  params.tensors["fc.weight"] = {{3, 4}, std::vector<float>(12, 0.1f)};
  params.tensors["fc.bias"] = {{3}, std::vector<float>(3, 0.0f)};
  gradc::writeSafeTensors(work.file("model.safetensors"), params);
  const std::string eval = "eval --test-images test-images.idx "
                           "--test-labels test-labels.idx --load ";

  // The same file with an unrelated U8 tensor after the parameters, whose
  // floats would take more than the memory budget; the file is sparse.
  std::ifstream in(work.file("model.safetensors"), std::ios::binary);
  const std::string whole{std::istreambuf_iterator<char>(in), {}};
  uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
    headerLength = headerLength << 8 | static_cast<uint8_t>(whole[i]);
  const std::string data = whole.substr(8 + headerLength);
  const uint64_t extra = memoryBudget() / 4 + 1;
  std::string header = whole.substr(8, headerLength);
  header = header.substr(0, header.find_last_not_of(' ') + 1);
  header.pop_back();
  header += R"(,"unrelated":{"dtype":"U8","shape":[)" + std::to_string(extra) +
            R"(],"data_offsets":[)" + std::to_string(data.size()) + "," +
            std::to_string(data.size() + extra) + "]}}";
  const std::string path = work.file("extra.safetensors");
  const std::string head = littleEndian64(header.size()) + header + data;
  writeBytes(path, head);
  REQUIRE(::truncate(path.c_str(), static_cast<off_t>(head.size() + extra)) ==
          0);
  const Outcome outcome = work.run(eval + "extra.safetensors");
  INFO(outcome.out << outcome.err);
  CHECK(outcome.status == 0);
  CHECK(outcome.out.rfind("test_loss ", 0) == 0);

  // Bytes that belong to no tensor mean a damaged file.
  writeBytes(work.file("trailing.safetensors"), whole + "garbage!");
  const Outcome trailing = work.run(eval + "trailing.safetensors");
  CHECK(trailing.status == 1);
  CHECK(trailing.err.find("8 bytes follow the last tensor's data") !=
        std::string::npos);
}

TEST_CASE("options out of range are refused with their range", "[trainer]") {
  const Workspace work("option_ranges");
  writeDataset(work, "train", 10, 25);
  struct Case {
    std::string args;
    std::string message;
  };
  const std::string train = "train " + trainArgs() + " ";
  const Case cases[] = {
      {train + "--lr inf", "--lr: inf is not finite: give a number from 0 to "
                           "3.4e38"},
      {train + "--lr nan", "--lr: nan is not finite"},
      {train + "--lr 1e39", "--lr: 1e39 must be a number from 0 to 3.4e38"},
      {train + "--epochs 99999999999999999999",
       "--epochs: 99999999999999999999 is out of range: give a whole number "
       "from 1 to 9223372036854775807"},
      {train + "--steps 99999999999999999999", "--steps: "},
      {train + "--epochs 0x10", "--epochs: '0x10' is not a whole number"},
      {train + "--seed -1", "--seed: -1 is out of range: give a whole number "
                            "from 0 to 18446744073709551615"},
      {train + "--batch 9223372036854775807",
       "--batch: 9223372036854775807 is out of range: give a whole number "
       "from 1 to 1048576"},
      {train + "--batch 1048577", "--batch: 1048577 is out of range"},
      {train + "--threads 0", "--threads: 0 is out of range: give a whole "
                              "number from 1 to 1024"},
      {"eval --load x --threads 1025", "--threads: 1025 is out of range"},
      {"gradcheck --batch 4097", "--batch: 4097 is out of range: give a whole "
                                 "number from 1 to 4096"},
      {"gradcheck --eps 1e-320", "--eps: 1e-320 must be a number from 1e-10 "
                                 "to 0.1"},
      {"gradcheck --eps 0.5", "--eps: 0.5 must be"},
      {"gradcheck --tol inf", "--tol: inf is not finite"},
      {"gradcheck --tol 0", "--tol: 0 must be a positive number"},
  };
  for (const Case &each : cases) {
    INFO(each.args);
    const Outcome outcome = work.run(each.args);
    INFO(outcome.out << outcome.err);
    CHECK(outcome.status == 1);
    CHECK(outcome.err.rfind("error: " + each.message, 0) == 0);
    CHECK(outcome.out.empty());
  }

  // Leading zeros are decimal, not octal.
  const Outcome decimal =
      work.run(train + "--epochs 010 --quiet --metrics metrics.jsonl");
  INFO(decimal.err);
  CHECK(decimal.status == 0);
  CHECK(lines(readText(work.file("metrics.jsonl"))).size() == 10);
}

TEST_CASE("verbose notes name the thread count, and quiet keeps stdout "
          "quiet",
          "[trainer]") {
  const Workspace work("verbose_quiet");
  writeDataset(work, "train", 10, 26);

  const Outcome plain = work.run("train --epochs 1 -v " + trainArgs());
  INFO(plain.out << plain.err);
  CHECK(plain.status == 0);
  CHECK(plain.err.find("training data: 10 samples") != std::string::npos);
  CHECK(plain.err.find("computing on ") != std::string::npos);
  CHECK(plain.out.rfind("epoch 1/1", 0) == 0);

  const Outcome both =
      work.run("train --epochs 1 -v --quiet --threads 2 " + trainArgs());
  INFO(both.out << both.err);
  CHECK(both.status == 0);
  CHECK(both.out.empty());
  CHECK(both.err.find("training data: 10 samples") != std::string::npos);
  CHECK(both.err.find("computing on 2 threads") != std::string::npos);
}

TEST_CASE("step refuses a batch of no samples", "[trainer]") {
  const Workspace work("step_no_samples");
  gradc::writeNpy(work.file("x.npy"), {{0, 2, 2}, {}});
  writeInt64Npy(work.file("y.npy"), {});
  const Outcome outcome =
      work.run("step --x x.npy --y y.npy --dump dump.safetensors");
  INFO(outcome.out << outcome.err);
  CHECK(outcome.status == 1);
  CHECK(outcome.err.rfind("error: 'x.npy' holds no samples", 0) == 0);
  CHECK_FALSE(std::filesystem::exists(work.file("dump.safetensors")));
}

TEST_CASE("non-finite training data is named, not blamed on the learning "
          "rate",
          "[trainer]") {
  const Workspace work("nonfinite_data");
  std::vector<float> x(10 * 4, 0.5f);
  x[13] = NAN;
  gradc::writeNpy(work.file("x.npy"), {{10, 2, 2}, x});
  writeInt64Npy(work.file("y.npy"), {0, 1, 2, 0, 1, 2, 0, 1, 2, 0});
  const Outcome outcome = work.run("train --train-x x.npy --train-y y.npy");
  INFO(outcome.out << outcome.err);
  CHECK(outcome.status == 1);
  CHECK(outcome.err.rfind("error: cannot read the training inputs: x.npy: "
                          "holds nan at flat index 13; the data must be "
                          "finite",
                          0) == 0);
  CHECK(outcome.err.find("learning rate") == std::string::npos);
}
