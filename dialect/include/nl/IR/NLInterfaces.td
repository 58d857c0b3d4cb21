//===- NLInterfaces.td - interfaces of the nl dialect ------*- tablegen -*-===//
//
// What the level analysis needs to know of an op, without knowing the op:
// which stateful components it declares (ComponentOpInterface) and whose
// state its results carry (StateReaderOpInterface).
//
//===----------------------------------------------------------------------===//

#ifndef NL_INTERFACES_TD
#define NL_INTERFACES_TD

include "mlir/IR/OpBase.td"

def NL_ComponentOpInterface : OpInterface<"ComponentOpInterface"> {
  let cppNamespace = "::mlir::nl";
  let description = [{
    An op that declares one or more stateful components (a memory, the blocks
    of a CMS chain, an optimizer state, a parameter group). Each component has
    a name, an update frequency, and the values its update consumes.
  }];
  let methods = [
    InterfaceMethod<"Number of components this op declares.",
      "unsigned", "getNumComponents", (ins)>,
    InterfaceMethod<"Name of component `index`, unique within the function.",
      "std::string", "getComponentName", (ins "unsigned":$index)>,
    InterfaceMethod<"Update frequency of component `index`.",
      "::mlir::nl::EveryAttr", "getComponentFrequency", (ins "unsigned":$index)>,
    InterfaceMethod<[{
        Values whose per-token (or per-step) content the update of component
        `index` consumes. Initial states are not listed: they are read once,
        before the first update.
      }],
      "void", "getUpdateInputs",
      (ins "unsigned":$index, "::llvm::SmallVectorImpl<::mlir::Value> &":$inputs)>,
    InterfaceMethod<[{
        Dependences between this op's own components: a pair (a, b) says the
        update of `b` needs the state of `a` at the same token.
      }],
      "void", "getInternalDependences",
      (ins "::llvm::SmallVectorImpl<std::pair<unsigned, unsigned>> &":$deps),
      /*methodBody=*/[{}], /*defaultImplementation=*/[{ return; }]>,
  ];
}

def NL_StateReaderOpInterface : OpInterface<"StateReaderOpInterface"> {
  let cppNamespace = "::mlir::nl";
  let description = [{
    An op whose results carry the state of components: the values at token t
    depend on the state of each listed component, at the same token or at an
    earlier one (a `chunk_start` read). The op's other tensor operands flow
    into its results as ordinary data.
  }];
  let methods = [
    InterfaceMethod<"Components whose state the results of this op carry.",
      "void", "getStateSources",
      (ins "::llvm::SmallVectorImpl<::mlir::nl::StateSource> &":$sources)>,
  ];
}

#endif // NL_INTERFACES_TD
