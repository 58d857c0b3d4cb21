// RUN: hope-opt %s --nl-lower-blocks-to-linalg -verify-diagnostics

// Feature widths must be static to lower.
func.func @dynamic_width(%x: tensor<?x?x?xf32>) -> tensor<?x2x?x?xf32> {
  // expected-error @+1 {{cannot lower 'nl.split_heads' to linalg: it needs static feature widths}}
  %y = nl.split_heads %x into 2 heads : tensor<?x?x?xf32>
  return %y : tensor<?x2x?x?xf32>
}
