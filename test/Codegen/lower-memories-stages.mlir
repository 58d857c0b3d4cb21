// A model of two HOPE blocks: block 1's memories learn from block 0's
// output after its CMS and block 1's convolution (ops that mix tokens), so
// nl-lower-memories gives each block its own chunk loop, in order, with the
// token-mixing ops between them on the whole sequence.

// RUN: hope-models hope-lm --config=tiny | hope-compile - --compile-to=memories | FileCheck %s
// CHECK: nl.causal_conv
// CHECK: %[[LOOP0:.*]]:25 = scf.for
// CHECK-NOT: nl.cms
// CHECK: nl.cms "layer0.cms"
// CHECK: nl.causal_conv
// CHECK: %[[LOOP1:.*]]:25 = scf.for
// CHECK: nl.cms "layer1.cms"
// CHECK-NOT: :25 = scf.for
// CHECK-NOT: nl.memory
