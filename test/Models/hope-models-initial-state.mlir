// --initial-state-out writes the state of a stream's first piece: every state
// input of the streaming entry point, memories at their seeded weights (and
// their references the same), the convolution's history and the position
// zero; hope-run starts the stream from it and carries it on.

// RUN: rm -rf %t && mkdir %t
// RUN: hope-models hope-block --config=tiny --streaming -o %t/s.mlir --weights-out=%t/w.safetensors \
// RUN:     --initial-state-out=%t/s0.safetensors --state-batch=2 --seed=3 2>&1 | FileCheck %s --check-prefix=WROTE
// WROTE: hope-models: wrote the initial state (2 sequences, seed 3) to {{.*}}s0.safetensors

// The header names the 26 state inputs with the batch first (llvm::json
// sorts the keys).
// RUN: head -c 3000 %t/s0.safetensors | tail -c +9 | FileCheck %s --check-prefix=HEADER
// HEADER: "M_alpha.reference.skip":{"data_offsets":[{{[0-9]+}},{{[0-9]+}}],"dtype":"F32","shape":[2,2,1,16]}
// HEADER-SAME: "conv_history":{"data_offsets":[{{[0-9]+}},{{[0-9]+}}],"dtype":"F32","shape":[2,3,32]}
// HEADER-SAME: "position":{"data_offsets":[{{[0-9]+}},{{[0-9]+}}],"dtype":"I64","shape":[]}

// Two pieces of 5 tokens: the position goes 0 -> 5 -> 10.
// RUN: hope-compile %t/s.mlir -O0 -o %t/s.so
// RUN: %hope_obj_root/bin/hope-run --module=%t/s.so --weights=%t/w.safetensors --state-in=%t/s0.safetensors \
// RUN:     --input=2x5x32xf32=0.5 --output= --state-out=%t/s1.safetensors
// RUN: %hope_obj_root/bin/hope-run --module=%t/s.so --weights=%t/w.safetensors --state-in=%t/s1.safetensors \
// RUN:     --input=2x5x32xf32=0.5 --output= --state-out=%t/s2.safetensors
// RUN: head -c 3000 %t/s2.safetensors | tail -c +9 | FileCheck %s --check-prefix=HEADER
// RUN: tail -c 8 %t/s2.safetensors | od -An -td8 | FileCheck %s --check-prefix=POSITION
// POSITION: 10

// Only the streaming form has a state; the batch is positive.
// RUN: not hope-models hope-block --config=tiny --initial-state-out=%t/x.safetensors 2>&1 | FileCheck %s --check-prefix=PLAIN
// PLAIN: hope-models: --initial-state-out needs --streaming: only the streaming form carries a state
// RUN: not hope-models hope-block --config=tiny --streaming --initial-state-out=%t/x.safetensors --state-batch=0 2>&1 | FileCheck %s --check-prefix=BATCH
// BATCH: hope-models: --state-batch must be positive, got 0
