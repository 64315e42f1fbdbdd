//===- TableBuilder.cpp - The model table as LLVM constants ---------------===//
//
// Strings become private constant byte arrays, so whatever bytes a name
// holds, it is data and never IR syntax.
//
//===----------------------------------------------------------------------===//
#include "codegen/llvm/TableBuilder.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>

#include <map>

namespace gradc {

using namespace llvm;

namespace {

class TableBuilder {
public:
  explicit TableBuilder(Module &module)
      : module(module), context(module.getContext()) {}

  Constant *build(const TableValue &value);
  std::map<std::string, GlobalVariable *> globals;

private:
  Constant *string(const std::string &text);

  Module &module;
  LLVMContext &context;
};

} // namespace

Constant *TableBuilder::string(const std::string &text) {
  Constant *bytes = ConstantDataArray::getString(context, text, true);
  auto *global = new GlobalVariable(module, bytes->getType(), true,
                                    GlobalValue::PrivateLinkage, bytes,
                                    "gradc.string");
  global->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
  global->setAlignment(Align(1));
  return global;
}

Constant *TableBuilder::build(const TableValue &value) {
  using Kind = TableValue::Kind;
  PointerType *ptr = PointerType::getUnqual(context);
  switch (value.kind) {
  case Kind::Int32:
    return ConstantInt::get(Type::getInt32Ty(context), value.integer, true);
  case Kind::Int64:
    return ConstantInt::get(Type::getInt64Ty(context), value.integer, true);
  case Kind::UInt64:
    return ConstantInt::get(Type::getInt64Ty(context), value.unsignedInteger);
  case Kind::Double:
    return ConstantFP::get(Type::getDoubleTy(context), value.real);
  case Kind::String:
    return string(value.text);
  case Kind::Null:
    return ConstantPointerNull::get(ptr);
  case Kind::Global: {
    auto found = globals.find(value.text);
    internalCheck(found != globals.end(),
                  "the model table refers to '" + value.text +
                      "' before defining it");
    return found->second;
  }
  case Kind::Function: {
    Function *function = module.getFunction(value.text);
    internalCheck(function != nullptr, "the model table refers to the "
                                       "missing entry point '" +
                                           value.text + "'");
    return function;
  }
  case Kind::Struct: {
    std::vector<Constant *> fields;
    for (const TableValue &field : value.elements)
      fields.push_back(build(field));
    return ConstantStruct::getAnon(context, fields);
  }
  case Kind::Array: {
    std::vector<Constant *> elements;
    for (const TableValue &element : value.elements)
      elements.push_back(build(element));
    Type *elementType = elements.empty() ? Type::getInt8Ty(context)
                                         : elements.front()->getType();
    for (Constant *element : elements)
      internalCheck(element->getType() == elementType,
                    "a model table array mixes element types");
    return ConstantArray::get(ArrayType::get(elementType, elements.size()),
                              elements);
  }
  }
  throw InternalError("a table value has no LLVM form");
}

void defineModelTable(Module &module, const std::vector<TableGlobal> &table) {
  TableBuilder builder(module);
  GlobalVariable *last = nullptr;
  for (const TableGlobal &entry : table) {
    Constant *value = builder.build(entry.value);
    last = new GlobalVariable(module, value->getType(), true,
                              GlobalValue::InternalLinkage, value,
                              "gradc." + entry.name);
    builder.globals[entry.name] = last;
  }
  internalCheck(last != nullptr, "the model table is empty");

  LLVMContext &context = module.getContext();
  Function *getModel = Function::Create(
      FunctionType::get(PointerType::getUnqual(context), false),
      GlobalValue::ExternalLinkage, "gradc_get_model", module);
  IRBuilder<> b(BasicBlock::Create(context, "entry", getModel));
  b.CreateRet(last);
}

} // namespace gradc
