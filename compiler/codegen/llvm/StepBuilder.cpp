//===- StepBuilder.cpp - The training step as LLVM IR ---------------------===//
//
// Elementwise loops are built as explicit vector loops: a main loop over
// whole vectors of the target's register width and a scalar loop for the
// remainder. The arithmetic follows the C++ backend's expressions operation
// for operation and without fast-math flags; the C++ compiler may still
// contract a multiply and an add into one FMA where this IR does not, so
// the two backends agree to rounding, and mostly bit for bit.
// The few ops that need libm functions without an LLVM intrinsic (erf,
// expm1, log1p) run the scalar loop only.
//
//===----------------------------------------------------------------------===//
#include "codegen/llvm/StepBuilder.h"

#include <gradc/vector_exp.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <functional>
#include <string>

namespace gradc {

using namespace llvm;

namespace {

// Fields of gradc_ctx_f32 and gradc_ctx_f64 (runtime/include/gradc/abi.h).
enum CtxField : unsigned {
  CtxParams,
  CtxGrads,
  CtxWorkspace,
  CtxX,
  CtxLabels,
  CtxTargets,
  CtxOutput,
  CtxLoss,
  CtxSqNorms,
  CtxBatch,
  CtxTraining,
  CtxSeed,
};

// Ops whose scalar form calls a libm function that LLVM has no vector
// intrinsic for.
bool needsScalarLibm(OpKind op) {
  switch (op) {
  case OpKind::Elu:
  case OpKind::Gelu:
  case OpKind::GeluGrad:
  case OpKind::Softplus:
    return true;
  default:
    return false;
  }
}

class StepBuilder {
public:
  StepBuilder(Module &module, const Graph &graph, const MemoryPlan &plan,
              Type *element, unsigned vectorBits, std::string suffix)
      : module(module), context(module.getContext()), graph(graph),
        plan(plan), element(element), suffix(std::move(suffix)),
        i64(Type::getInt64Ty(context)), i32(Type::getInt32Ty(context)),
        ptrTy(PointerType::getUnqual(context)) {
    unsigned bits = element->getPrimitiveSizeInBits();
    lanes = std::max(1u, vectorBits / bits);
    ctxType = StructType::get(context, {ptrTy, ptrTy, ptrTy, ptrTy, ptrTy,
                                        ptrTy, ptrTy, ptrTy, ptrTy, i64, i32,
                                        i64});
  }

  // Adds the step function and the two entry points.
  void build(const KernelProgram &program);

  std::vector<NodeFunction> nodeFunctions;

private:
  Function *statementFunction(const Statement &statement);
  void callSection(IRBuilder<> &b, Value *ctx,
                   const std::vector<Statement> &section);

  Value *field(IRBuilder<> &b, Value *ctx, CtxField index);
  Value *extent(IRBuilder<> &b, Value *ctx, Extent e);
  Value *pointer(IRBuilder<> &b, Value *ctx, NodeId id);
  Value *elementAt(IRBuilder<> &b, Value *base, Value *index) {
    return b.CreateInBoundsGEP(element, base, index);
  }
  Constant *constant(double value, Type *type) {
    return ConstantFP::get(type, value);
  }

  void emit(IRBuilder<> &b, Value *ctx, const KernelCall &call);
  void emit(IRBuilder<> &b, Value *ctx, const ElementwiseLoop &loop);
  void emit(IRBuilder<> &b, Value *ctx, const SumRowsLoop &loop);
  void emit(IRBuilder<> &b, Value *ctx, const BlockCopy &copy);

  // for (i = begin; i < end; i += step) body(i)
  void forLoop(IRBuilder<> &b, Value *begin, Value *end, uint64_t step,
               const std::function<void(Value *)> &body);
  // Runs body(i, width) over [0, count): whole vectors, then single
  // elements; `vectorize` false runs single elements only.
  void vectorLoop(IRBuilder<> &b, Value *count, bool vectorize,
                  const std::function<void(Value *, unsigned)> &body);

  Value *elementOp(IRBuilder<> &b, const FusedStep &step,
                   const std::vector<Value *> &x);
  Value *libmCall(IRBuilder<> &b, const char *name, Value *x);
  Value *intrinsic(IRBuilder<> &b, Intrinsic::ID id, Value *x) {
    return b.CreateUnaryIntrinsic(id, x);
  }
  Value *fma(IRBuilder<> &b, Value *x, Value *y, Value *z) {
    return b.CreateIntrinsic(Intrinsic::fma, {x->getType()}, {x, y, z});
  }
  Value *sigmoid(IRBuilder<> &b, Value *x);
  template <typename T> Value *sigmoidAs(IRBuilder<> &b, Value *x);

  Module &module;
  LLVMContext &context;
  const Graph &graph;
  const MemoryPlan &plan;
  Type *element;
  std::string suffix;
  Type *i64;
  Type *i32;
  PointerType *ptrTy;
  StructType *ctxType;
  unsigned lanes = 1;
  int functionCount = 0;
};

} // namespace

Value *StepBuilder::field(IRBuilder<> &b, Value *ctx, CtxField index) {
  Type *type = ctxType->getElementType(index);
  return b.CreateLoad(type, b.CreateStructGEP(ctxType, ctx, index));
}

Value *StepBuilder::extent(IRBuilder<> &b, Value *ctx, Extent e) {
  Value *fixed = ConstantInt::get(i64, e.fixed);
  if (e.perSample == 0)
    return fixed;
  Value *batch = field(b, ctx, CtxBatch);
  Value *scaled = b.CreateMul(batch, ConstantInt::get(i64, e.perSample), "",
                              /*HasNUW=*/true, /*HasNSW=*/true);
  return e.fixed ? b.CreateAdd(scaled, fixed, "", true, true) : scaled;
}

Value *StepBuilder::pointer(IRBuilder<> &b, Value *ctx, NodeId id) {
  const Storage &storage = plan.storage.at(id);
  auto offset = [&](CtxField base, Extent at) {
    return elementAt(b, field(b, ctx, base), extent(b, ctx, at));
  };
  switch (storage.kind) {
  case StorageKind::Input:
    return field(b, ctx, CtxX);
  case StorageKind::Labels:
    return field(b, ctx, CtxLabels);
  case StorageKind::Targets:
    return field(b, ctx, CtxTargets);
  case StorageKind::Params:
    return offset(CtxParams, {0, storage.fixed});
  case StorageKind::Grads:
    return offset(CtxGrads, {0, storage.fixed});
  case StorageKind::Loss:
    return field(b, ctx, CtxLoss);
  case StorageKind::SqNorm:
    return offset(CtxSqNorms, {0, storage.fixed});
  case StorageKind::Alias:
    return pointer(b, ctx, storage.aliasOf);
  case StorageKind::Workspace:
    return offset(CtxWorkspace, {storage.perSample, storage.fixed});
  }
  throw InternalError("a storage kind has no LLVM form");
}

void StepBuilder::forLoop(IRBuilder<> &b, Value *begin, Value *end,
                          uint64_t step,
                          const std::function<void(Value *)> &body) {
  Function *function = b.GetInsertBlock()->getParent();
  BasicBlock *before = b.GetInsertBlock();
  BasicBlock *header = BasicBlock::Create(context, "loop", function);
  BasicBlock *inside = BasicBlock::Create(context, "body", function);
  BasicBlock *after = BasicBlock::Create(context, "done", function);
  b.CreateBr(header);

  b.SetInsertPoint(header);
  PHINode *index = b.CreatePHI(i64, 2, "i");
  index->addIncoming(begin, before);
  b.CreateCondBr(b.CreateICmpSLT(index, end), inside, after);

  b.SetInsertPoint(inside);
  body(index);
  Value *next = b.CreateAdd(index, ConstantInt::get(i64, step), "", true,
                            true);
  index->addIncoming(next, b.GetInsertBlock());
  b.CreateBr(header);

  b.SetInsertPoint(after);
}

void StepBuilder::vectorLoop(
    IRBuilder<> &b, Value *count, bool vectorize,
    const std::function<void(Value *, unsigned)> &body) {
  Value *zero = ConstantInt::get(i64, 0);
  if (!vectorize || lanes == 1) {
    forLoop(b, zero, count, 1, [&](Value *i) { body(i, 1); });
    return;
  }
  // lanes is a power of two: the whole vectors end at count & -lanes.
  Value *vectorEnd =
      b.CreateAnd(count, ConstantInt::get(i64, -int64_t(lanes)));
  forLoop(b, zero, vectorEnd, lanes, [&](Value *i) { body(i, lanes); });
  forLoop(b, vectorEnd, count, 1, [&](Value *i) { body(i, 1); });
}

Value *StepBuilder::libmCall(IRBuilder<> &b, const char *name, Value *x) {
  std::string symbol = name;
  if (element->isFloatTy())
    symbol += "f";
  FunctionCallee callee =
      module.getOrInsertFunction(symbol, FunctionType::get(element, {element},
                                                           false));
  if (auto *function = dyn_cast<Function>(callee.getCallee())) {
    function->setDoesNotThrow();
    function->setDoesNotAccessMemory();
    function->setWillReturn();
  }
  return b.CreateCall(callee, {x});
}

// gradc::sigmoid of runtime/include/gradc/vector_exp.h, operation for
// operation, so that both backends give the same bits: exp(-x) as 2^k
// times a Taylor polynomial in r = -x - k ln 2, then 1 / (1 + exp(-x)).
Value *StepBuilder::sigmoid(IRBuilder<> &b, Value *x) {
  return element->isFloatTy() ? sigmoidAs<float>(b, x)
                              : sigmoidAs<double>(b, x);
}

// The constants are the header's own (detail::ExpParts), so that the two
// backends cannot drift apart.
template <typename T>
Value *StepBuilder::sigmoidAs(IRBuilder<> &b, Value *x) {
  using Parts = gradc::detail::ExpParts<T>;
  Type *type = x->getType();
  Type *integers = type->getWithNewType(sizeof(T) == 4 ? i32 : i64);
  auto c = [&](double value) { return constant(value, type); };

  // The argument, clamped to where 2^k stays normal; NaN becomes Lowest.
  Value *minus = b.CreateFNeg(x);
  Value *clamped = b.CreateSelect(
      b.CreateFCmpOGT(minus, c(Parts::Lowest)), minus, c(Parts::Lowest));
  clamped = b.CreateSelect(b.CreateFCmpOLT(clamped, c(Parts::Highest)),
                           clamped, c(Parts::Highest));

  Value *k = b.CreateFSub(
      fma(b, clamped, c(T(gradc::detail::kLog2E)), c(Parts::Rounder)),
      c(Parts::Rounder));
  Value *minusK = b.CreateFNeg(k);
  Value *r = fma(b, minusK, c(Parts::Ln2High), clamped);
  r = fma(b, minusK, c(Parts::Ln2Low), r);

  constexpr auto coefficient = gradc::detail::taylorCoefficients<T>();
  Value *polynomial = c(coefficient[Parts::Degree]);
  for (int n = Parts::Degree - 1; n >= 0; --n)
    polynomial = fma(b, polynomial, r, c(coefficient[n]));

  Value *exponent =
      b.CreateAdd(b.CreateFPToSI(k, integers),
                  ConstantInt::get(integers, Parts::ExponentBias));
  Value *scale = b.CreateBitCast(
      b.CreateShl(exponent, ConstantInt::get(integers, Parts::MantissaBits)),
      type);
  Value *result = b.CreateFDiv(c(1), fma(b, polynomial, scale, c(1)));
  return b.CreateSelect(b.CreateFCmpOEQ(x, x), result, x);
}

// One op on scalars or on vectors of `lanes` elements, in the C++
// backend's order of operations (runtime/include/gradc/kernels_*.h).
Value *StepBuilder::elementOp(IRBuilder<> &b, const FusedStep &step,
                              const std::vector<Value *> &x) {
  Type *type = x[0]->getType();
  Constant *zero = constant(0, type), *one = constant(1, type);
  Constant *alpha = constant(
      step.attrs.count("alpha") ? step.attrs.at("alpha") : 0.0, type);
  auto positive = [&](Value *v) { return b.CreateFCmpOGT(v, zero); };
  const double invSqrt2 = 0.70710678118654752440;
  const double invSqrt2Pi = 0.39894228040143267794;

  switch (step.op) {
  case OpKind::BiasAdd:
  case OpKind::Add:
    return b.CreateFAdd(x[0], x[1]);
  case OpKind::Mul:
    return b.CreateFMul(x[0], x[1]);
  case OpKind::Relu:
    return b.CreateSelect(positive(x[0]), x[0], zero);
  case OpKind::Sigmoid:
    return sigmoid(b, x[0]);
  case OpKind::Tanh:
    return intrinsic(b, Intrinsic::tanh, x[0]);
  case OpKind::ReluGrad:
    return b.CreateSelect(positive(x[1]), x[0], zero);
  case OpKind::SigmoidGrad:
    return b.CreateFMul(b.CreateFMul(x[0], x[1]), b.CreateFSub(one, x[1]));
  case OpKind::TanhGrad:
    return b.CreateFMul(x[0], fma(b, b.CreateFNeg(x[1]), x[1], one));
  case OpKind::LeakyRelu:
    return b.CreateSelect(positive(x[0]), x[0], b.CreateFMul(alpha, x[0]));
  case OpKind::LeakyReluGrad:
    return b.CreateSelect(positive(x[1]), x[0], b.CreateFMul(alpha, x[0]));
  case OpKind::Elu:
    return b.CreateSelect(positive(x[0]), x[0],
                          b.CreateFMul(alpha, libmCall(b, "expm1", x[0])));
  case OpKind::EluGrad: {
    Value *e = intrinsic(b, Intrinsic::exp, x[1]);
    return b.CreateSelect(positive(x[1]), x[0],
                          b.CreateFMul(b.CreateFMul(x[0], alpha), e));
  }
  case OpKind::Gelu: {
    Value *erf = libmCall(b, "erf", b.CreateFMul(x[0],
                                                  constant(invSqrt2, type)));
    return b.CreateFMul(b.CreateFMul(constant(0.5, type), x[0]),
                        b.CreateFAdd(one, erf));
  }
  case OpKind::GeluGrad: {
    Value *erf = libmCall(b, "erf", b.CreateFMul(x[1],
                                                  constant(invSqrt2, type)));
    Value *cdf = b.CreateFMul(constant(0.5, type), b.CreateFAdd(one, erf));
    Value *square =
        b.CreateFMul(b.CreateFMul(constant(-0.5, type), x[1]), x[1]);
    Value *pdf = b.CreateFMul(constant(invSqrt2Pi, type),
                              intrinsic(b, Intrinsic::exp, square));
    return b.CreateFMul(x[0], b.CreateFAdd(cdf, b.CreateFMul(x[1], pdf)));
  }
  case OpKind::Softplus: {
    Value *soft = libmCall(b, "log1p", intrinsic(b, Intrinsic::exp, x[0]));
    return b.CreateSelect(b.CreateFCmpOGT(x[0], constant(20, type)), x[0],
                          soft);
  }
  case OpKind::SoftplusGrad: {
    Value *z = intrinsic(b, Intrinsic::exp, x[1]);
    Value *soft = b.CreateFDiv(b.CreateFMul(x[0], z), b.CreateFAdd(z, one));
    return b.CreateSelect(b.CreateFCmpOGT(x[1], constant(20, type)), x[0],
                          soft);
  }
  default:
    break;
  }
  throw InternalError(std::string("the LLVM backend has no elementwise form "
                                  "of '") +
                      opName(step.op) + "'");
}

void StepBuilder::emit(IRBuilder<> &b, Value *ctx, const KernelCall &call) {
  std::vector<Type *> types;
  std::vector<Value *> args;
  for (const KernelArg &arg : call.args) {
    switch (arg.kind) {
    case KernelArg::Kind::Size:
      args.push_back(extent(b, ctx, arg.size));
      break;
    case KernelArg::Kind::Real:
      args.push_back(ConstantFP::get(b.getDoubleTy(), arg.real));
      break;
    case KernelArg::Kind::Salt:
      args.push_back(ConstantInt::get(i64, arg.salt));
      break;
    case KernelArg::Kind::Tensor:
      args.push_back(pointer(b, ctx, arg.node));
      break;
    case KernelArg::Kind::Window:
      for (int64_t value : arg.window)
        args.push_back(ConstantInt::get(i64, value));
      break;
    case KernelArg::Kind::Seed:
      args.push_back(field(b, ctx, CtxSeed));
      break;
    case KernelArg::Kind::Training:
      args.push_back(field(b, ctx, CtxTraining));
      break;
    }
  }
  for (Value *arg : args)
    types.push_back(arg->getType());

  Type *result = call.result >= 0 ? element : b.getVoidTy();
  std::string name = "gradc_" + call.kernel + "_" + suffix;
  FunctionCallee callee =
      module.getOrInsertFunction(name, FunctionType::get(result, types,
                                                         false));
  // A kernel called with two different signatures is a lowering bug; it
  // would call the library wrongly, so it is refused here.
  if (auto *function = dyn_cast<Function>(callee.getCallee()))
    internalCheck(function->getFunctionType() == callee.getFunctionType(),
                  "kernel '" + name + "' is called with two signatures");
  Value *value = b.CreateCall(callee, args);
  if (call.result >= 0)
    b.CreateStore(value, pointer(b, ctx, call.result));
}

void StepBuilder::emit(IRBuilder<> &b, Value *ctx,
                       const ElementwiseLoop &loop) {
  std::vector<Value *> bases;
  for (NodeId operand : loop.operands)
    bases.push_back(pointer(b, ctx, operand));
  Value *output = pointer(b, ctx, loop.output);
  bool vectorize = true;
  for (const FusedStep &step : loop.steps)
    vectorize = vectorize && !needsScalarLibm(step.op);
  Align align(element->getPrimitiveSizeInBits() / 8);

  // The loop body at element `at` of the row starting at `rowStart`.
  auto body = [&](Value *rowStart, Value *at, unsigned width) {
    Type *type =
        width == 1 ? element : FixedVectorType::get(element, width);
    std::vector<Value *> x;
    for (size_t i = 0; i < bases.size(); ++i) {
      Value *index = loop.broadcast[i] ? at : b.CreateAdd(rowStart, at);
      x.push_back(b.CreateAlignedLoad(type, elementAt(b, bases[i], index),
                                      align));
    }
    std::vector<Value *> results;
    for (const FusedStep &step : loop.steps) {
      std::vector<Value *> operands;
      for (int operand : step.operands)
        operands.push_back(operand >= 0 ? x.at(operand)
                                        : results.at(-1 - operand));
      results.push_back(elementOp(b, step, operands));
    }
    b.CreateAlignedStore(results.back(),
                         elementAt(b, output, b.CreateAdd(rowStart, at)),
                         align);
  };

  Value *zero = ConstantInt::get(i64, 0);
  bool broadcasts = false;
  for (bool each : loop.broadcast)
    broadcasts |= each;
  if (!broadcasts) {
    Extent total{loop.rows.perSample * loop.width,
                 loop.rows.fixed * loop.width};
    vectorLoop(b, extent(b, ctx, total), vectorize,
               [&](Value *i, unsigned width) { body(zero, i, width); });
    return;
  }
  Value *width = ConstantInt::get(i64, loop.width);
  forLoop(b, zero, extent(b, ctx, loop.rows), 1, [&](Value *row) {
    Value *rowStart = b.CreateMul(row, width, "", true, true);
    vectorLoop(b, width, vectorize, [&](Value *j, unsigned lanesNow) {
      body(rowStart, j, lanesNow);
    });
  });
}

// Row by row, so every column is summed in the C++ backend's order.
void StepBuilder::emit(IRBuilder<> &b, Value *ctx, const SumRowsLoop &loop) {
  Value *input = pointer(b, ctx, loop.input);
  Value *output = pointer(b, ctx, loop.output);
  Value *width = ConstantInt::get(i64, loop.width);
  Align align(element->getPrimitiveSizeInBits() / 8);
  b.CreateMemSet(output, b.getInt8(0),
                 loop.width * (element->getPrimitiveSizeInBits() / 8),
                 align);

  Value *zero = ConstantInt::get(i64, 0);
  forLoop(b, zero, extent(b, ctx, loop.rows), 1, [&](Value *row) {
    Value *rowStart = b.CreateMul(row, width, "", true, true);
    vectorLoop(b, width, true, [&](Value *j, unsigned lanesNow) {
      Type *type =
          lanesNow == 1 ? element : FixedVectorType::get(element, lanesNow);
      Value *sumAt = elementAt(b, output, j);
      Value *sum = b.CreateAlignedLoad(type, sumAt, align);
      Value *value = b.CreateAlignedLoad(
          type, elementAt(b, input, b.CreateAdd(rowStart, j)), align);
      b.CreateAlignedStore(b.CreateFAdd(sum, value), sumAt, align);
    });
  });
}

void StepBuilder::emit(IRBuilder<> &b, Value *ctx, const BlockCopy &copy) {
  Value *from = pointer(b, ctx, copy.from);
  Value *to = pointer(b, ctx, copy.to);
  uint64_t bytes = element->getPrimitiveSizeInBits() / 8;
  Align align(bytes);
  Value *zero = ConstantInt::get(i64, 0);
  forLoop(b, zero, extent(b, ctx, copy.rows), 1, [&](Value *row) {
    auto at = [&](Value *base, int64_t stride, int64_t offset) {
      Value *index = b.CreateAdd(
          b.CreateMul(row, ConstantInt::get(i64, stride), "", true, true),
          ConstantInt::get(i64, offset));
      return elementAt(b, base, index);
    };
    b.CreateMemCpy(at(to, copy.toStride, copy.toOffset), align,
                   at(from, copy.fromStride, copy.fromOffset), align,
                   copy.length * bytes);
  });
}

Function *StepBuilder::statementFunction(const Statement &statement) {
  const Node &node = graph.node(statement.node);
  std::string name = "gradc.node" + std::to_string(node.id) + "." +
                     opName(node.op) + "." + suffix;
  // Concat copies one block per input, each in a function of its own.
  ++functionCount;
  if (module.getFunction(name))
    name += "." + std::to_string(functionCount);
  Function *function =
      Function::Create(FunctionType::get(Type::getVoidTy(context), {ptrTy},
                                         false),
                       GlobalValue::InternalLinkage, name, module);
  // Kept out of line: one call per node costs nothing next to its loop,
  // and the optimizer then works on many small functions, in time linear
  // in the model's size, instead of on one huge step.
  function->addFnAttr(Attribute::NoInline);
  function->addFnAttr(Attribute::NoUnwind);
  nodeFunctions.push_back({function, node.id});

  IRBuilder<> b(BasicBlock::Create(context, "entry", function));
  Value *ctx = function->getArg(0);
  std::visit([&](const auto &work) { emit(b, ctx, work); }, statement.work);
  b.CreateRetVoid();
  return function;
}

void StepBuilder::callSection(IRBuilder<> &b, Value *ctx,
                              const std::vector<Statement> &section) {
  for (const Statement &statement : section)
    b.CreateCall(statementFunction(statement), {ctx});
}

// step(ctx, backward): the forward pass and the output; the loss when
// labels or targets are given; with `backward`, the gradients, and their
// norms when ctx->grad_sqnorms is not null.
void StepBuilder::build(const KernelProgram &program) {
  Type *voidTy = Type::getVoidTy(context);
  Function *step = Function::Create(
      FunctionType::get(voidTy, {ptrTy, Type::getInt1Ty(context)}, false),
      GlobalValue::InternalLinkage, "gradc.step." + suffix, module);
  Value *ctx = step->getArg(0);
  BasicBlock *entry = BasicBlock::Create(context, "forward", step);
  BasicBlock *loss = BasicBlock::Create(context, "loss", step);
  BasicBlock *backward = BasicBlock::Create(context, "backward", step);
  BasicBlock *norms = BasicBlock::Create(context, "norms", step);
  BasicBlock *done = BasicBlock::Create(context, "done", step);

  IRBuilder<> b(entry);
  callSection(b, ctx, program.forward);
  uint64_t bytes = element->getPrimitiveSizeInBits() / 8;
  Value *outputBytes = b.CreateMul(
      extent(b, ctx, elementCount(graph.type(graph.output))),
      ConstantInt::get(i64, bytes));
  b.CreateMemCpy(field(b, ctx, CtxOutput), Align(bytes),
                 pointer(b, ctx, graph.output), Align(bytes), outputBytes);
  Value *noLabels = b.CreateIsNull(field(b, ctx, CtxLabels));
  Value *noTargets = b.CreateIsNull(field(b, ctx, CtxTargets));
  b.CreateCondBr(b.CreateAnd(noLabels, noTargets), done, loss);

  b.SetInsertPoint(loss);
  callSection(b, ctx, program.loss);
  b.CreateCondBr(step->getArg(1), backward, done);

  b.SetInsertPoint(backward);
  callSection(b, ctx, program.backward);
  b.CreateCondBr(b.CreateIsNull(field(b, ctx, CtxSqNorms)), done, norms);

  b.SetInsertPoint(norms);
  callSection(b, ctx, program.norms);
  b.CreateBr(done);

  b.SetInsertPoint(done);
  b.CreateRetVoid();

  std::string type = suffix == "f32" ? "F32" : "F64";
  for (bool train : {false, true}) {
    Function *entryPoint = Function::Create(
        FunctionType::get(voidTy, {ptrTy}, false),
        GlobalValue::InternalLinkage, (train ? "train" : "forward") + type,
        module);
    IRBuilder<> e(BasicBlock::Create(context, "entry", entryPoint));
    e.CreateCall(step, {entryPoint->getArg(0), e.getInt1(train)});
    e.CreateRetVoid();
  }
}

std::vector<NodeFunction> buildStepFunctions(Module &module,
                                             const Graph &graph,
                                             const MemoryPlan &plan,
                                             const KernelProgram &program,
                                             unsigned vectorBits) {
  std::vector<NodeFunction> nodes;
  LLVMContext &context = module.getContext();
  for (auto [type, suffix] :
       {std::pair<Type *, const char *>{Type::getFloatTy(context), "f32"},
        {Type::getDoubleTy(context), "f64"}}) {
    StepBuilder builder(module, graph, plan, type, vectorBits, suffix);
    builder.build(program);
    nodes.insert(nodes.end(), builder.nodeFunctions.begin(),
                 builder.nodeFunctions.end());
  }
  return nodes;
}

void verifyStep(const Module &module, const Graph &graph,
                const std::vector<NodeFunction> &nodes) {
  for (const NodeFunction &entry : nodes) {
    std::string message;
    raw_string_ostream out(message);
    if (verifyFunction(*entry.function, &out)) {
      const Node &node = graph.node(entry.node);
      throw InternalError("the LLVM IR built for graph node %" +
                          std::to_string(node.id) + " ('" +
                          opName(node.op) + "' of layer '" + node.layer +
                          "') fails LLVM's verifier: " + out.str());
    }
  }
  std::string message;
  raw_string_ostream out(message);
  if (verifyModule(module, &out))
    throw InternalError("the LLVM module fails LLVM's verifier: " +
                        out.str());
}

} // namespace gradc
