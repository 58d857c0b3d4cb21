// The nlcpu dialect verifies its marks.
// RUN: hope-opt %s -split-input-file -verify-diagnostics

func.func @not_unit(%x: f32) -> f32 {
  // expected-error @+1 {{'nlcpu.register_tile' must be a unit attribute}}
  %y = arith.addf %x, %x {nlcpu.register_tile = 1 : i32} : f32
  return %y : f32
}

// -----

func.func @unknown(%x: f32) -> f32 {
  // expected-error @+1 {{unknown nlcpu attribute 'nlcpu.tile'}}
  %y = arith.addf %x, %x {nlcpu.tile} : f32
  return %y : f32
}

// -----

// The mark is no longer the nl dialect's.
func.func @old_name(%x: f32) -> f32 {
  // expected-error @+1 {{unknown nl attribute 'nl.register_tile'}}
  %y = arith.addf %x, %x {nl.register_tile} : f32
  return %y : f32
}
