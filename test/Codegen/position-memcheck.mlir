// The compiled chunk loop touches only its buffers for every position it
// accepts, and nothing for those it refuses: hope-run under valgrind's
// memcheck (valgrind prints "==PID==" lines for every invalid read or write,
// or read of uninitialised memory; none may appear). Before the position
// precondition, position -1 read uninitialised memory here and -17 read past
// the heap buffers of the HOPE block. 5 tokens, chunks of 4: every position
// around the chunk boundaries, the last one accepted, and refused ones.
// Compiled for the x86-64 baseline: valgrind's emulated CPU lacks AVX-512.

// RUN: hope-compile %s -O0 --cpu=x86-64 -o %t.so
// RUN: valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=0 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=P0 --implicit-check-not='=='
// P0: next: i64=5
// RUN: valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=3 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=P3 --implicit-check-not='=='
// P3: next: i64=8
// RUN: valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=4 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=P4 --implicit-check-not='=='
// P4: next: i64=9
// RUN: valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=5 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=P5 --implicit-check-not='=='
// P5: next: i64=10
// RUN: valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=7 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=P7 --implicit-check-not='=='
// P7: next: i64=12
// RUN: valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=8 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=P8 --implicit-check-not='=='
// P8: next: i64=13
// RUN: valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=9223372036854775798 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=PLAST --implicit-check-not='=='
// PLAST: next: i64=9223372036854775803
// RUN: not valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=-1 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=REFUSED --implicit-check-not='=='
// RUN: not valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=-6 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=REFUSED --implicit-check-not='=='
// RUN: not valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=-9223372036854775808 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=REFUSED --implicit-check-not='=='
// RUN: not valgrind -q --error-exitcode=99 %hope_obj_root/bin/hope-run --num-threads=1 \
// RUN:     --module=%t.so --input=1x1x5x2xf32=0.5 --input=1x1x5xf32=0.1 --input=i64=9223372036854775799 \
// RUN:     --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=REFUSED --implicit-check-not='=='
// REFUSED: break a precondition: the position (tokens streamed before this call) must be at least 0

!m = !nl.memory<1 heads, 2 -> 2, f32>
func.func @stream(%k: tensor<?x1x?x2xf32> {nl.input = "k"},
                  %lr: tensor<?x1x?xf32> {nl.input = "lr"},
                  %p: tensor<i64> {nl.input = "position"},
                  %w: tensor<1x2x2xf32> {nl.input = "w"})
    -> (tensor<?x1x?x2xf32> {nl.output = "y"},
        tensor<?x1x2x2xf32> {nl.output = "reference"},
        tensor<i64> {nl.output = "next"}) {
  %m = nl.memory "M" init(%w : tensor<1x2x2xf32>) position(%p : tensor<i64>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  nl.update %m keys(%k) values(%k) lr(%lr) : !m, tensor<?x1x?x2xf32>, tensor<?x1x?x2xf32>, tensor<?x1x?xf32>
  %y = nl.read %m(%k) at after : !m, tensor<?x1x?x2xf32>
  %r, %next = nl.stream_state %m : !m -> reference(tensor<?x1x2x2xf32>) position tensor<i64>
  return %y, %r, %next : tensor<?x1x?x2xf32>, tensor<?x1x2x2xf32>, tensor<i64>
}
