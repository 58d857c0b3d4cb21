"""hope-models' memory-level builder (models/lib/MemoryLevel.cpp, through --memory-spec) writes the
same function as test/parity/memory_ir.py for every memory the parity tests compile: the product's
builder can express each of them, and the two descriptions of one memory have not drifted apart.
Both sides are generated here (nothing pasted); compared after hope-opt prints them alike."""

from __future__ import annotations

import itertools
import json
import subprocess

import pytest

from memory_ir import builder_spec, memory_function
from reference import memory as ref
from test_memory_parity import MODELS, OBJECTIVES, RULES

H = 2


def _printed(hope_opt, source: str, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.mlir"
    path.write_text(source)
    result = subprocess.run([str(hope_opt), str(path), "--mlir-print-op-generic"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _built(hope_models, fields: dict, tmp_path) -> str:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(fields))
    result = subprocess.run([str(hope_models), "memory-level", f"--memory-spec={spec_file}"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # The builder names its function after the model; the parity tests' is @forward.
    return result.stdout.replace("@memory_level", "@forward")


def _cases():
    rules_by_model = itertools.product(MODELS, OBJECTIVES, RULES, ["after", "chunk_start"])
    for model, objective, rule, point in rules_by_model:
        if objective != "l2" and model not in ("linear", "mlp_post_norm"):
            continue
        yield pytest.param(model, ref.MemorySpec(MODELS[model][0], OBJECTIVES[objective],
                                                 RULES[rule], chunk=4), point, "f64", True,
                           id=f"{model}-{objective}-{rule}-{point}")
    for model, linearize, order in itertools.product(["linear", "mlp_post_norm"], [2, 4, None], [0, 1]):
        rule = ref.MomentumGD(order=order, retention="chunk", momentum="chunk")
        spec = ref.MemorySpec(MODELS[model][0], ref.L2(reduction="mean"), rule, chunk=2,
                              chunk_aggregated=ref.ChunkAggregated(linearize))
        yield pytest.param(model, spec, "after", "f32", False,
                           id=f"{model}-aggregated-L{linearize}-order{order}-f32-no-retention")


@pytest.mark.parametrize("model,spec,point,element,retention", list(_cases()))
def test_builder_writes_the_parity_function(hope_models, hope_opt, tmp_path, model, spec, point,
                                            element, retention):
    _, d_in, d_out = MODELS[model]
    written = memory_function(spec, H, d_in, d_out, point, element, retention=retention)
    fields = builder_spec(spec, H, d_in, d_out, point, element, retention)
    assert (_printed(hope_opt, _built(hope_models, fields, tmp_path), tmp_path, "built")
            == _printed(hope_opt, written, tmp_path, "written"))


def test_the_comparison_can_fail(hope_models, hope_opt, tmp_path):
    """Another chunk size on one side only: the printed functions differ."""
    spec = ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.MomentumGD(order=1), chunk=4)
    fields = builder_spec(spec, H, 4, 4, "after")
    fields["chunk"] = 2
    assert (_printed(hope_opt, _built(hope_models, fields, tmp_path), tmp_path, "built")
            != _printed(hope_opt, memory_function(spec, H, 4, 4, "after"), tmp_path, "written"))


@pytest.mark.parametrize("fields,message", [
    ({"heads": "two"}, "memory spec: 'heads' must be an integer"),
    ({"rule": "adam"}, "memory spec: 'rule' must be one of momentum_gd, dgd"),
    ({"chunks": 4}, "memory spec: unknown key 'chunks' (the keys are: name, heads"),
    ({"linearize": True}, "memory spec: 'linearize' must be a period in tokens"),
    ({"chunk": 0}, "memory spec: heads, widths, depth, hidden and chunk must be positive"),
])
def test_bad_specs_are_named(hope_models, tmp_path, fields, message):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(fields))
    result = subprocess.run([str(hope_models), "memory-level", f"--memory-spec={spec_file}"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f"hope-models: {spec_file}: {message}" in result.stderr
