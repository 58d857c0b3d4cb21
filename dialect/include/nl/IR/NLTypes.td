//===- NLTypes.td - types of the nl dialect ----------------*- tablegen -*-===//

#ifndef NL_TYPES_TD
#define NL_TYPES_TD

include "nl/IR/NLDialect.td"
include "mlir/IR/AttrTypeBase.td"

def NL_MemoryType : TypeDef<NL_Dialect, "Memory"> {
  let mnemonic = "memory";
  let summary = "handle to an associative memory (a stateful component)";
  let description = [{
    The value that `nl.memory` creates and that `nl.read`, `nl.update` and
    `nl.final_state` refer to. It records what every use needs to check
    shapes: the number of heads, the memory's input and output widths per
    head, and the element type of its state.

    ```mlir
    !nl.memory<8 heads, 64 -> 64, f32>
    ```
  }];
  let parameters = (ins "int64_t":$heads, "int64_t":$inputWidth,
                        "int64_t":$outputWidth, "::mlir::Type":$elementType);
  let assemblyFormat =
      "`<` $heads `heads` `,` $inputWidth `->` $outputWidth `,` $elementType `>`";
  let genVerifyDecl = 1;
}

#endif // NL_TYPES_TD
