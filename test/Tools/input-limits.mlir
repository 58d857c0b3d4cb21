// hope-opt and hope-compile read only regular files (or stdin) below
// --max-input-size, refuse IR nested deeper than --max-nesting with the place,
// and parse on a 512 MiB stack, so that deep but bounded nesting parses.

// A device would be read until memory runs out.
// RUN: not hope-opt /dev/zero 2>&1 | FileCheck %s --check-prefix=DEVICE
// RUN: not hope-compile /dev/zero --compile-to=input 2>&1 | FileCheck %s --check-prefix=DEVICE
// DEVICE: {{^}}hope-{{opt|compile}}: cannot read '/dev/zero': not a regular file{{$}}
// RUN: not hope-opt %t.missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: hope-opt: cannot read '{{.*}}missing.mlir': No such file or directory

// Larger than the limit, as a file or on stdin (read no further).
// RUN: not hope-opt %s --max-input-size=0 2>&1 | FileCheck %s --check-prefix=SIZE
// SIZE: hope-opt: cannot read '{{.*}}input-limits.mlir': {{[0-9]+}} bytes, more than the limit of 0 (--max-input-size)
// RUN: head -c 3000000 /dev/zero > %t.zeros
// RUN: not hope-opt - --max-input-size=2 < %t.zeros 2>&1 | FileCheck %s --check-prefix=STDIN
// RUN: not hope-compile - --compile-to=input --max-input-size=1 < /dev/zero 2>&1 | FileCheck %s --check-prefix=STDIN
// STDIN: hope-{{opt|compile}}: standard input is larger than the limit of {{1048576|2097152}} bytes (--max-input-size)

// 3000 nested regions (6000 levels of brackets) parse and print; 6000 are
// refused at the bracket that passes the limit.
// RUN: python3 -c "n=3000; print('\"u.r\"() ({' * n + '}) : () -> ()' * n)" > %t.deep.mlir
// RUN: hope-opt --allow-unregistered-dialect %t.deep.mlir | FileCheck %s --check-prefix=DEEP
// DEEP: "u.r"() ({
// RUN: python3 -c "n=6000; print('\"u.r\"() ({' * n + '}) : () -> ()' * n)" > %t.deeper.mlir
// RUN: not hope-opt --allow-unregistered-dialect %t.deeper.mlir 2>&1 | FileCheck %s --check-prefix=DEEPER
// RUN: not hope-compile %t.deeper.mlir --compile-to=input 2>&1 | FileCheck %s --check-prefix=DEEPER
// DEEPER: hope-{{opt|compile}}: {{.*}}deeper.mlir:1:{{[0-9]+}}: nesting deeper than 10000 levels of ( [ { < (--max-nesting)
// Brackets in strings and comments do not count: ((((((((
// RUN: hope-opt --max-nesting=1 %s | FileCheck %s --check-prefix=STRING
// STRING: "(((("
// RUN: not hope-opt --max-nesting=0 %s 2>&1 | FileCheck %s --check-prefix=BOUND
// BOUND: hope-opt: {{.*}}input-limits.mlir:[[@LINE+1]]:13: nesting deeper than 0 levels of ( [ { < (--max-nesting)
func.func @f() -> () attributes {note = "(((("} {
  return
}
