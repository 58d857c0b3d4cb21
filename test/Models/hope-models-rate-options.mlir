// --retention-bias, --normalize-values, --bounded-eta, --memory-eta-scale
// (docs/training.md, "The associative-recall example"): what each adds to the
// IR of self-modifying Titans, and the errors for bad values.

// RUN: hope-models self-modifying-titans --config=tiny --retention-bias=4 --normalize-values --bounded-eta --memory-eta-scale=0.5 | FileCheck %s
// CHECK: hope-models self-modifying-titans --config=tiny --normalize-values --bounded-eta --retention-bias=4 --memory-eta-scale=0.5
// CHECK: %[[MV:[0-9]+]] = nl.memory "M_v"
// CHECK: %[[MMEM:[0-9]+]] = nl.memory "M_mem"
// CHECK: %[[VRAW:[0-9]+]] = nl.read %[[MV]](
// CHECK-NEXT: %[[V:[0-9]+]] = nl.l2_normalize %[[VRAW]]
// CHECK-NEXT: %[[ERAW:[0-9]+]] = nl.read
// CHECK-NEXT: %[[ETA:[0-9]+]] = nl.rate sigmoid %[[ERAW]] scale 1.000000e-03
// CHECK-NEXT: %[[MEMETA:[0-9]+]] = nl.rate sigmoid %[[ERAW]] scale 5.000000e-01
// CHECK-NEXT: %[[ARAW:[0-9]+]] = nl.read
// CHECK-NEXT: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<1x1xf32>
// CHECK-NEXT: %[[OFFSET:.*]] = arith.constant dense<4.000000e+00> : tensor<1xf32>
// CHECK-NEXT: %[[SHIFTED:[0-9]+]] = nl.linear %[[ARAW]], %[[ONE]] bias %[[OFFSET]]
// CHECK-NEXT: %[[ALPHA:[0-9]+]] = nl.rate sigmoid %[[SHIFTED]] :
// CHECK: nl.read %{{.*}}(%[[V]])
// CHECK: nl.update {{.*}} lr(%[[ETA]]) retention(%[[ALPHA]])
// CHECK: nl.read %[[MMEM]](%[[V]])
// CHECK: nl.update %[[MMEM]] {{.*}} lr(%[[MEMETA]]) retention(%[[ALPHA]])

// Without them: the paper's rates, no constant, v not normalised.
// RUN: hope-models self-modifying-titans --config=tiny | FileCheck %s --check-prefix=PLAIN
// PLAIN-NOT: arith.constant
// PLAIN: nl.rate softplus
// PLAIN-NOT: arith.constant
// PLAIN-COUNT-5: nl.update {{.*}} lr(%[[ETA:[0-9]+]])

// RUN: hope-models hope-lm --config=tiny --retention-bias=4 | FileCheck %s --check-prefix=LM
// LM-COUNT-2: arith.constant dense<4.000000e+00>

// RUN: not hope-models hope-block --memory-eta-scale=0 2>&1 | FileCheck %s --check-prefix=SCALE
// SCALE: hope-models: --memory-eta-scale must be positive, got 0.000000
// RUN: not hope-models hope-block --retention-bias=inf 2>&1 | FileCheck %s --check-prefix=NOTFINITE
// NOTFINITE: hope-models: --retention-bias must be finite, got inf
// RUN: not hope-models titans-memory --normalize-values 2>&1 | FileCheck %s --check-prefix=APPLY
// APPLY: hope-models: --normalize-values does not apply to titans-memory (see --help)
