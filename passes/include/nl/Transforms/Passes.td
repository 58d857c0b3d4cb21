//===- Passes.td - passes of the nl dialect ----------------*- tablegen -*-===//

#ifndef NL_TRANSFORMS_PASSES_TD
#define NL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Level structure
//===----------------------------------------------------------------------===//

def NLVerifyLevels : Pass<"nl-verify-levels", "mlir::ModuleOp"> {
  let summary = "Check the legality rules of nested levels";
  let description = [{
    Builds the per-token dataflow graph of the function's components (memories,
    CMS blocks, optimizer levels), every read placed at its read point, and
    checks the rules of nested learning:
    - component names are unique within the function;
    - no component needs its own state, or another's, at the same token in a
      cycle (a two-way same-token dependence between components of one
      frequency is reported as such);
    - the chunk sizes (or step periods) of components that feed each other
      divide one another.
    Each violation is an error at the component's location naming every
    component involved.
  }];
}

def NLAssignLevels : Pass<"nl-assign-levels", "mlir::ModuleOp"> {
  let summary = "Order components into levels and record them as nl.level";
  let description = [{
    Numbers the levels of the function from the fastest (level 1): components
    are ordered by update frequency; among components of one frequency, one
    whose state the other needs at the same token comes first (the
    dependence tie-break); components of one frequency with no dependence
    share a level. The result is written on every component op as
    `nl.level = array<i64: ...>`, one entry per component. Fails, with the
    diagnostics of `nl-verify-levels`, on an illegal function.
  }];
  let dependentDialects = ["mlir::nl::NLDialect"];
}

def NLPrintLevels : Pass<"nl-print-levels", "mlir::ModuleOp"> {
  let summary = "Print the level structure of every function";
  let description = [{
    Prints, for each function with components, its levels fastest first: the
    level number, the update frequency and the components of the level with
    the ops that declare them. With `dependences=true`, also every dependence
    between components (`A -> B` means B's update reads A's state, at the same
    token or an earlier one). The IR is left unchanged.
  }];
  let options = [
    Option<"printDependences", "dependences", "bool", /*default=*/"false",
           "Also print the dependences between components">,
  ];
}

//===----------------------------------------------------------------------===//
// Automatic differentiation (docs/training.md)
//===----------------------------------------------------------------------===//

def NLDifferentiate : Pass<"nl-differentiate", "mlir::ModuleOp"> {
  let summary = "Reverse-mode AD of tensor-level functions (the chunk loops included)";
  let description = [{
    For every function named in `functions`, emits a public function
    `@<name>_vjp` (a vector-Jacobian product): it takes the function's
    arguments, then one cotangent per float result (a loss function with a
    scalar result takes 1.0), and returns the function's results, then
    d<cotangents . results>/d argument for every float argument, in argument
    order. Runs on the tensor IR after `nl-lower-memories` (before
    bufferization), so the hand-derived inner gradients of the memories are
    differentiated like any other computation: second-order terms included.

    Named linalg ops are generalised first; then one rule serves every
    `linalg.generic` (an adjoint generic per operand over the same iteration
    space, its body the scalar derivative of the original body). An
    `scf.for` with iter_args (a chunk loop) records the entry value of each
    iter_arg at every iteration (the states at chunk boundaries), and the
    reverse loop walks the iterations backwards, recomputing each iteration
    from its recorded entry state. An iter_arg only written into (an output
    being assembled with `tensor.insert_slice`) is not recorded. No gradient
    flows through `nl.stop_gradient`. A gather (a generic body reading a
    float tensor it does not take as an operand with `tensor.extract`, as
    `nl.embedding` lowers) gets a scatter-add adjoint: a loop nest over the
    generic's points that adds each point's adjoint into the table's. An op
    without an adjoint rule on the path of a gradient is an error at its
    location that names it.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Names of the functions to differentiate">,
  ];
  let dependentDialects = [
    "mlir::affine::AffineDialect",
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect", "mlir::func::FuncDialect"
  ];
}

#endif // NL_TRANSFORMS_PASSES_TD
