//===- NLAttrs.cpp - attributes of the nl dialect -------------------------===//

#include "nl/IR/NLAttrs.h"
#include "nl/IR/NLDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::nl;

#include "nl/IR/NLEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "nl/IR/NLAttrs.cpp.inc"

void NLDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "nl/IR/NLAttrs.cpp.inc"
      >();
}

FailureOr<bool> mlir::nl::parseBoolKeyword(AsmParser &parser) {
  if (succeeded(parser.parseOptionalKeyword("true")))
    return true;
  if (succeeded(parser.parseOptionalKeyword("false")))
    return false;
  return parser.emitError(parser.getCurrentLocation(),
                          "expected 'true' or 'false'");
}

FailureOr<APFloat> mlir::nl::parseF64(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return APFloat(value);
}

//===----------------------------------------------------------------------===//
// EveryAttr
//===----------------------------------------------------------------------===//

LogicalResult EveryAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t period, TimeUnit unit) {
  if (period <= 0)
    return emitError() << "update period must be positive, got " << period
                       << " " << stringifyTimeUnit(unit);
  return success();
}

bool EveryAttr::isFasterThan(EveryAttr other) const {
  if (getUnit() != other.getUnit())
    return getUnit() == TimeUnit::Tokens;
  return getPeriod() < other.getPeriod();
}

bool EveryAttr::dividesOrIsDividedBy(EveryAttr other) const {
  if (getUnit() != other.getUnit())
    return true;
  int64_t a = getPeriod(), b = other.getPeriod();
  return a % b == 0 || b % a == 0;
}

std::string EveryAttr::describe() const {
  bool tokens = getUnit() == TimeUnit::Tokens;
  return llvm::formatv("every {0} {1}{2}", getPeriod(),
                       tokens ? "token" : "step", getPeriod() == 1 ? "" : "s")
      .str();
}

//===----------------------------------------------------------------------===//
// Models, rules, variants
//===----------------------------------------------------------------------===//

LogicalResult MLPModelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t depth, int64_t hidden, Activation,
                                   Residual residual, MemoryNorm norm,
                                   APFloat normOffset) {
  if (depth < 1)
    return emitError() << "an MLP memory needs depth >= 1, got " << depth;
  if (depth == 1 && residual == Residual::None)
    return emitError() << "an MLP memory of depth 1 without a skip path is "
                          "one matrix: use #nl.linear";
  if (hidden <= 0)
    return emitError() << "MLP hidden width must be positive, got " << hidden;
  if (!normOffset.isZero() && norm == MemoryNorm::None)
    return emitError() << "norm_offset " << normOffset.convertToDouble()
                       << " needs a norm (pre or post)";
  return success();
}

LogicalResult
MomentumGDAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t order, bool, RateGranularity, RateGranularity,
                       RateGranularity) {
  if (order < 0)
    return emitError() << "momentum order must be >= 0, got " << order;
  return success();
}

LogicalResult
ChunkAggregatedAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                            int64_t period) {
  if (period < 0)
    return emitError() << "linearisation period must be positive or "
                          "'sequence', got "
                       << period;
  return success();
}

Attribute ChunkAggregatedAttr::parse(AsmParser &parser, Type) {
  int64_t period = 0;
  if (parser.parseLess() || parser.parseKeyword("linearize") ||
      parser.parseEqual())
    return {};
  if (failed(parser.parseOptionalKeyword("sequence"))) {
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseInteger(period))
      return {};
    if (period <= 0) {
      parser.emitError(loc, "linearisation period must be positive or "
                            "'sequence', got ")
          << period;
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return ChunkAggregatedAttr::get(parser.getContext(), period);
}

void ChunkAggregatedAttr::print(AsmPrinter &printer) const {
  printer << "<linearize = ";
  if (linearizesOverSequence())
    printer << "sequence";
  else
    printer << getPeriod();
  printer << ">";
}

//===----------------------------------------------------------------------===//
// Optimizer rules
//===----------------------------------------------------------------------===//

static LogicalResult
verifyPositive(function_ref<InFlightDiagnostic()> emitError, StringRef what,
               double value) {
  if (!(value > 0.0))
    return emitError() << what << " must be positive, got " << value;
  return success();
}

static LogicalResult
verifyDecay(function_ref<InFlightDiagnostic()> emitError, StringRef what,
            double value) {
  if (!(value >= 0.0 && value < 1.0))
    return emitError() << what << " must be in [0, 1), got " << value;
  return success();
}

LogicalResult AdamWRuleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                    APFloat lrValue, APFloat beta1Value,
                                    APFloat beta2Value, APFloat epsValue,
                                    APFloat weightDecayValue) {
  double lr = lrValue.convertToDouble(), beta1 = beta1Value.convertToDouble(),
         beta2 = beta2Value.convertToDouble(), eps = epsValue.convertToDouble(),
         weightDecay = weightDecayValue.convertToDouble();
  if (failed(verifyPositive(emitError, "lr", lr)) ||
      failed(verifyDecay(emitError, "beta1", beta1)) ||
      failed(verifyDecay(emitError, "beta2", beta2)) ||
      failed(verifyPositive(emitError, "eps", eps)))
    return failure();
  if (weightDecay < 0.0)
    return emitError() << "weight_decay must be >= 0, got " << weightDecay;
  return success();
}

LogicalResult MuonRuleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   APFloat lr) {
  return verifyPositive(emitError, "lr", lr.convertToDouble());
}

LogicalResult M3RuleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 APFloat lr, APFloat alpha, APFloat eps) {
  if (failed(verifyPositive(emitError, "lr", lr.convertToDouble())) ||
      failed(verifyPositive(emitError, "eps", eps.convertToDouble())))
    return failure();
  if (alpha.convertToDouble() < 0.0)
    return emitError() << "alpha must be >= 0, got "
                       << alpha.convertToDouble();
  return success();
}
