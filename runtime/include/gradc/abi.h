// The boundary between a generated model and the runtime.
//
// The code generator emits one translation unit (or object) that defines
// gradc_get_model(). It describes the model as plain data: the parameters
// with their shapes and places in one flat array, the layers for `info`,
// the training configuration from the YAML, and four entry points that run
// the forward pass, or forward and backward together, in float or double.
// The runtime owns everything else: the command line, data, the training
// loop, the optimizer, logs and checkpoints. Keeping this boundary to C
// types lets both backends (C++ and LLVM) produce the same thing.
#ifndef GRADC_ABI_H
#define GRADC_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRADC_ABI_VERSION 2
#define GRADC_MAX_RANK 4

enum gradc_loss {
  GRADC_LOSS_SOFTMAX_CROSS_ENTROPY = 0, // targets: int32 class ids
  GRADC_LOSS_MSE = 1,                   // targets: floats, output's shape
  GRADC_LOSS_BCE_WITH_LOGITS = 2,       // targets: floats, output's shape
};

enum gradc_optimizer {
  GRADC_OPTIMIZER_SGD = 0,
  GRADC_OPTIMIZER_ADAM = 1,  // L2 weight decay added to the gradient
  GRADC_OPTIMIZER_ADAMW = 2, // decoupled weight decay
};

// How the learning rate changes from epoch to epoch, as PyTorch's
// schedulers stepped once per epoch.
enum gradc_schedule {
  GRADC_SCHEDULE_NONE = 0,
  GRADC_SCHEDULE_STEP = 1,   // StepLR(step_size = every, gamma)
  GRADC_SCHEDULE_COSINE = 2, // CosineAnnealingLR(T_max = epochs)
};

enum gradc_clip {
  GRADC_CLIP_NONE = 0,
  GRADC_CLIP_GLOBAL_NORM = 1, // torch.nn.utils.clip_grad_norm_
  GRADC_CLIP_VALUE = 2,       // torch.nn.utils.clip_grad_value_
};

// How a parameter is initialized. `default` is PyTorch's default for the
// layer: for dense weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
enum gradc_init {
  GRADC_INIT_DEFAULT = 0,
  GRADC_INIT_HE_UNIFORM = 1,
  GRADC_INIT_HE_NORMAL = 2,
  GRADC_INIT_XAVIER_UNIFORM = 3,
  GRADC_INIT_XAVIER_NORMAL = 4,
  GRADC_INIT_NORMAL = 5,  // init_arg is the standard deviation
  GRADC_INIT_UNIFORM = 6, // init_arg is the limit
  GRADC_INIT_ZEROS = 7,
  GRADC_INIT_ONES = 8,
};

typedef struct gradc_param_info {
  const char *name; // "<layer>.<param>", as PyTorch names it
  int rank;
  int64_t shape[GRADC_MAX_RANK];
  int64_t offset; // first element in the flat parameter array
  int64_t size;   // number of elements
  int init;       // enum gradc_init
  double init_arg;
  int64_t fan_in;
  int64_t fan_out;
  int layer;     // index into gradc_model::layers
  int is_buffer; // 1: state such as running statistics, no gradient
} gradc_param_info;

typedef struct gradc_layer_info {
  const char *name;
  const char *op;     // "dense", "relu", ...
  const char *detail; // "units=256 activation=relu", for `info`
  int rank;           // output shape of one sample
  int64_t shape[GRADC_MAX_RANK];
  int64_t num_params;
} gradc_layer_info;

// One split of the data in one of three forms; the paths of the forms not
// used are NULL.
typedef struct gradc_split {
  const char *images; // IDX file, gzip or not
  const char *labels;
  const char *x; // .npy inputs [N, ...] and targets
  const char *y;
  const char *csv;      // CSV: one sample a row, an optional header line
  int64_t label_column; // the CSV column of the target, from 0
} gradc_split;

// The training configuration as the YAML gave it, with defaults filled in
// and relative paths resolved. The trainer's options override it.
typedef struct gradc_config {
  int64_t batch;
  int64_t epochs;
  uint64_t seed;
  int shuffle;

  int optimizer; // enum gradc_optimizer
  double lr;
  double momentum; // sgd
  double weight_decay;
  int nesterov;  // sgd
  double beta1;  // adam and adamw
  double beta2;
  double eps;
  int schedule;           // enum gradc_schedule
  int64_t schedule_every; // step: epochs between decays
  double schedule_gamma;  // step: the factor of each decay

  gradc_split train;
  gradc_split test;
  double scale; // every input is multiplied by this,
  int normalize;
  double mean; // then, when normalize is set, (x - mean) / std
  double std;

  int64_t grad_every;    // 0: no gradient-norm log
  const char *grad_file; // NULL: no gradient-norm log
  double vanishing_below;
  double exploding_above;

  int targets_are_inputs; // an autoencoder: each sample is its own target

  // Gradient clipping, applied after the backward pass and before the
  // optimizer; clip_threshold is the norm or the bound.
  int clip; // enum gradc_clip
  double clip_threshold;
  // 1: a step whose loss or gradient is not finite is skipped, not fatal.
  int skip_nonfinite;
} gradc_config;

// One call's arguments. `batch` may be anything from 1 up; the workspace
// must hold workspace_per_sample * batch + workspace_fixed elements.
typedef struct gradc_ctx_f32 {
  // Writable because a training step updates buffers such as BatchNorm's
  // running statistics; trainable parameters are only read.
  float *params;
  float *grads; // same layout as params; written by train_step
  float *workspace;
  const float *x;         // [batch, input_size]
  const int32_t *labels;  // [batch] for softmax cross-entropy, or NULL
  const float *targets;   // [batch, output_size] for mse, or NULL
  float *output;          // [batch, output_size]
  float *loss;            // [1]; written when labels or targets are given
  float *grad_sqnorms;    // [num_params]: squared L2 norm of each gradient,
                          // or NULL: not computed (a part of a batch, whose
                          // norms the runtime takes after adding the parts)
  int64_t batch;
  int training; // 1 while training (dropout and batch statistics on)
  // Seeds this call's random draws (dropout masks). The runtime derives it
  // from the run's seed and the step, so a resumed run draws what an
  // uninterrupted one would, and gradcheck's repeated calls draw alike.
  uint64_t seed;
} gradc_ctx_f32;

typedef struct gradc_ctx_f64 {
  double *params;
  double *grads;
  double *workspace;
  const double *x;
  const int32_t *labels;
  const double *targets;
  double *output;
  double *loss;
  double *grad_sqnorms;
  int64_t batch;
  int training;
  uint64_t seed;
} gradc_ctx_f64;

typedef struct gradc_model {
  int abi_version; // GRADC_ABI_VERSION
  const char *name;
  const char *backend; // "cpp" or "llvm"
  const char *target;  // "native", "avx2", ...
  const char *passes;  // passes applied, comma separated; "" for none

  int input_rank;
  int64_t input_shape[GRADC_MAX_RANK];
  int64_t input_size;
  int output_rank;
  int64_t output_shape[GRADC_MAX_RANK];
  int64_t output_size;
  int loss; // enum gradc_loss

  int num_params; // parameters and buffers, from input to output
  const gradc_param_info *params;
  int64_t param_size; // elements in the flat parameter array

  int num_layers;
  const gradc_layer_info *layers;

  int64_t workspace_per_sample;
  int64_t workspace_fixed;

  const gradc_config *config;

  // forward: output, and loss when labels or targets are given.
  // train_step: forward, loss, every gradient and its squared norm.
  void (*forward_f32)(const gradc_ctx_f32 *);
  void (*train_step_f32)(const gradc_ctx_f32 *);
  void (*forward_f64)(const gradc_ctx_f64 *);
  void (*train_step_f64)(const gradc_ctx_f64 *);

  // Set when the first layer is an embedding: every input value is then an
  // integer id in [0, input_vocab), carried as a float. The runtime refuses
  // data holding anything else, and gradcheck draws such ids.
  int input_is_ids;
  int64_t input_vocab;

  // The workspace's lower bound: num_live_peaks pairs (per_sample, fixed),
  // in elements, the totals of the workspace buffers live at one point of
  // a training step that no other point exceeds in both. No arena can hold
  // the step's buffers in fewer than the largest per_sample * batch + fixed
  // elements; `info` compares the arena with it. 0 and NULL when unknown.
  int num_live_peaks;
  const int64_t *live_peaks; // [2 * num_live_peaks]

  // 1 when no op of a training step mixes the samples of a batch (no
  // BatchNorm, no dropout): the step's gradient is then the mean of the
  // gradients of any parts the batch is cut into, weighted by their sizes,
  // and the runtime may compute the parts side by side.
  int batch_separable;
  // The multiply-adds per sample of each matrix product of a training
  // step (dense layers and recurrences' input products, forward and
  // backward), for the runtime to tell how much of a step the products
  // can split over threads at a given batch. NULL when there are none.
  int num_products;
  const int64_t *product_macs; // [num_products]
} gradc_model;

// Defined by the generated code.
const gradc_model *gradc_get_model(void);

#ifdef __cplusplus
}
#endif

#endif // GRADC_ABI_H
