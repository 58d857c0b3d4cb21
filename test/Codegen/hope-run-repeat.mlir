// hope-run --repeat and --timings-json, on an artifact whose batch and
// token loops run on OpenMP threads. A call count of zero is an error, one
// line on stderr, before any call.

// RUN: hope-compile %s -o %t.so
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --repeat=0 \
// RUN:     --input=2x3x8xf32=0.5 --input=8x8xf32=0.25 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: hope-run: error: --repeat must be at least 1
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --repeat=0 \
// RUN:     --input=2x3x8xf32=0.5 --input=8x8xf32=0.25 2>&1 | count 1

// The JSON has one duration per call and the threads the calls used: those
// given, else the default (OMP_NUM_THREADS, else one per core), never 0.
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --repeat=3 --timings-json=%t.json \
// RUN:     --input=2x3x8xf32=0.5 --input=8x8xf32=0.25 --output=
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// JSON: "function": "forward",
// JSON-NEXT: "median_seconds":
// JSON: "seconds": [
// JSON-NEXT: {{[0-9.e-]+}},
// JSON-NEXT: {{[0-9.e-]+}},
// JSON-NEXT: {{[0-9.e-]+$}}
// JSON-NEXT: ],
// JSON-NEXT: "threads": {{[1-9][0-9]*$}}
// RUN: env OMP_NUM_THREADS=3 %hope_obj_root/bin/hope-run --module=%t.so \
// RUN:     --timings-json=%t.env.json --input=2x3x8xf32=0.5 --input=8x8xf32=0.25 --output=
// RUN: FileCheck %s --check-prefix=ENV < %t.env.json
// ENV: "threads": 3{{$}}
// RUN: env OMP_NUM_THREADS=3 %hope_obj_root/bin/hope-run --module=%t.so --num-threads=2 \
// RUN:     --timings-json=%t.2.json --input=2x3x8xf32=0.5 --input=8x8xf32=0.25 --output=
// RUN: FileCheck %s --check-prefix=TWO < %t.2.json
// TWO: "threads": 2{{$}}

func.func @forward(%x: tensor<?x?x8xf32> {nl.input = "x"},
                   %w: tensor<8x8xf32> {nl.input = "w"})
    -> (tensor<?x?x8xf32> {nl.output = "y"}) {
  %y = nl.linear %x, %w : tensor<?x?x8xf32>, tensor<8x8xf32>
  return %y : tensor<?x?x8xf32>
}
