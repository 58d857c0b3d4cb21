"""train_step through the emulated CUDA target (`hope-compile --train --target=cuda-emulated`,
run through the runtime's CUDA backend over its CPU stand-in for the driver, emulated.py): the
HOPE block (width 16, 2 heads, chunks 2 and 4, mean squared error) and the tiny HOPE LM
(cross-entropy, some targets ignored) of test_train_step.py, T = 11, batch 2, with AdamW,
weight decay and clipping by the global norm, every parameter and optimizer state bound once as a
mutable weight on the device and updated there in place by each call. 3 steps against autograd
through the token-by-token reference and torch.optim.AdamW after clip_grad_norm_ (the checks of
test_train_step.py's adamw_against_torch): losses, gradient norms, then the parameters and both
moments read back from the device, float64 to 1e-9; the block in float32 too, against the float64
reference to 1e-4 (measured 7e-7 on the loss, 6e-6 on the parameters). A target beyond the LM's vocabulary is
refused (the check runs on the device) and updates nothing.

Each model is compiled once, at -O0: 5 s (block, each type) and 10 s (LM) of CPU, 12 s and 47 s
wall on the shared, loaded 2-core machine; the steps run in about a second."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from conftest import BUILD
from emulated import compile_source_emulated, run_tools
from runtime_api import DEVICE_CUDA, Runtime, RuntimeApiError, Session
from test_train_step import (BLOCK_ARGS, CLIP, LM_ARGS, _block_data, _block_loss, _lm_data,
                             _lm_loss, adamw_against_torch)

LR, STEPS, WEIGHT_DECAY = 1e-2, 3, 0.01


class DeviceTrainStep:
    """train_step of an emulated artifact: its updated weights bound on the device (the forward's
    parameters from `weights`, the optimizer states zero)."""

    def __init__(self, runtime: Runtime, library, weights: dict, element: str):
        self.numpy_type = NUMPY[element]
        self.session = Session(runtime, library, device=DEVICE_CUDA)
        assert self.session.manifest["target"]["kind"] == "cuda-emulated"
        self.spec = self.session.entry("train_step")
        self.on_device = {}
        for spec in self.spec["inputs"]:
            if spec["role"] != "weight":
                continue
            assert spec.get("updated"), spec
            source = weights.get(spec["name"])
            value = (np.zeros(spec["shape"]) if source is None else source.numpy())
            value = value.astype(self.numpy_type)
            self.on_device[spec["name"]] = self.session.bind_device_weight(spec["name"], value)

    def step(self, data, targets, lr: float, step: int) -> tuple[float, float]:
        """One call; raises RuntimeApiError (and updates nothing) when a precondition fails."""
        real = self.numpy_type

        def cast(array):
            return array.astype(real) if array.dtype.kind == "f" else array
        outputs = self.session.invoke_map("train_step", {
            self.spec["inputs"][0]["name"]: cast(data), "targets": cast(targets),
            "learning_rate": np.array(lr, real), "step": np.array(step, np.int64)})
        return float(outputs["loss"]), float(outputs["grad_norm"])

    def weight(self, name: str) -> np.ndarray:
        return self.session.read_tensor(self.on_device[name])

    def launches(self) -> int:
        return self.session.device_stats().last_call_launches

    def close(self) -> None:
        self.session.close()


# name -> hope-models' arguments, the data (input, targets), the reference loss, the element
# type and the tolerance (float32 against the float64 reference: semantics doc, section 8).
MODELS = {"block": (BLOCK_ARGS, _block_data, _block_loss, "f64", 1e-9),
          "lm": (LM_ARGS, _lm_data, _lm_loss, "f64", 1e-9),
          "block-f32": (BLOCK_ARGS, _block_data, _block_loss, "f32", 1e-4)}
NUMPY = {"f32": np.float32, "f64": np.float64}


@pytest.fixture(scope="module")
def compiled(hope_models, hope_compile, tmp_path_factory):
    """name -> (the emulated train_step, the seeded float64 weights), each compiled once, when a
    test first asks for it."""
    cache = {}

    def get(name: str):
        if name not in cache:
            directory = tmp_path_factory.mktemp(f"emulated_train_step_{name}")
            source, weights_file = directory / f"{name}.mlir", directory / f"{name}.safetensors"
            element = MODELS[name][3]
            run_tools([hope_models, *MODELS[name][0], f"--dtype={element}", "-o", source,
                       f"--weights-out={weights_file}"])
            library = compile_source_emulated(
                hope_compile, source, directory / f"{name}.so",
                ("--train", "--optimizer=adamw", f"--weight-decay={WEIGHT_DECAY}",
                 f"--clip={CLIP}"))
            weights = {key: value.double() for key, value in load_file(str(weights_file)).items()}
            cache[name] = DeviceTrainStep(Runtime(BUILD), library, weights, element), weights
        return cache[name]
    yield get
    for model, _ in cache.values():
        model.close()


def test_lm_targets_beyond_the_vocabulary_are_refused_on_the_device(compiled):
    """The targets' check reads device data (a kernel of one block): refused, nothing updated."""
    model, _ = compiled("lm")
    tokens, targets = _lm_data()
    targets[1, 2] = 256
    before = {n: model.weight(n) for n in model.on_device}
    with pytest.raises(RuntimeApiError, match="targets must be below the vocabulary size 256"):
        model.step(tokens.numpy(), targets.numpy(), 1.0, 1)
    assert all(np.array_equal(before[n], model.weight(n)) for n in model.on_device)


@pytest.mark.parametrize("name", list(MODELS))
def test_adamw_steps_on_the_device(compiled, name):
    model, weights = compiled(name)
    _, data_fn, loss_fn, _, tolerance = MODELS[name]
    x, targets = data_fn()

    def step(*arguments):
        result = model.step(*arguments)
        print(f"{model.launches()} launches so far")
        return result

    worst = adamw_against_torch(step, model.weight, weights, loss_fn, x, targets, tolerance,
                                lr=LR, steps=STEPS, weight_decay=WEIGHT_DECAY)
    moved = max(np.abs(model.weight(n) - w.numpy()).max() for n, w in weights.items())
    print(f"{3 * len(weights)} tensors read back from the device, worst relative error "
          f"{worst:.1e}; the parameters moved by up to {moved:.2e}")
    assert moved > 1e-4
