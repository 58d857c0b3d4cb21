"""A model compiled once for the emulated CUDA target (`hope-compile --target=cuda-emulated`) and
called the way a host program calls a GPU artifact: one runtime session on the CUDA device
(module loading, the device arena, the stream and the copies of the runtime's CUDA backend over
its CPU stand-in for the driver), weights bound once by name, inputs and states by name per
call. Shared by the emulated parity tests of the models (test_emulated_models.py) and of
streaming (test_emulated_streaming.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from runtime_api import DEVICE_CUDA, Runtime, Session


def run_tools(*commands) -> None:
    for command in commands:
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-4000:]


def compile_emulated(hope_models: Path, hope_compile: Path, directory: Path, name: str,
                     model_args: list) -> tuple[Path, dict]:
    """`hope-models MODEL_ARGS --weights-out=...` compiled for the emulated target at -O0 (LLVM's
    optimisation of a HOPE block's ~80 emulated kernels takes half a minute; unoptimised they
    run the tiny sizes in a second): the library and hope-models' seeded weights (float64)."""
    source, weights_file = directory / f"{name}.mlir", directory / f"{name}.safetensors"
    run_tools([hope_models, *model_args, f"--weights-out={weights_file}", "-o", source])
    library = compile_source_emulated(hope_compile, source, directory / f"{name}.so")
    return library, {key: value.double() for key, value in load_file(str(weights_file)).items()}


def compile_source_emulated(hope_compile: Path, source: Path, library: Path,
                            options: tuple = ()) -> Path:
    """nl IR in `source` compiled for the emulated target at -O0 into `library`, with
    hope-compile's `options` (e.g. --train)."""
    run_tools([hope_compile, source, "--target=cuda-emulated", "-O0", *options, "-o", library])
    return library


class EmulatedModel:
    """Entry point `entry` of an emulated artifact, one session for every call."""

    def __init__(self, runtime: Runtime, library: Path, entry: str, weights: dict, numpy_type):
        self.session = Session(runtime, library, device=DEVICE_CUDA)
        assert self.session.manifest["target"]["kind"] == "cuda-emulated"
        self.name, self.numpy_type = entry, numpy_type
        self.spec = self.session.entry(entry)
        self.weights = {}
        self.bind(weights)

    def bind(self, weights: dict) -> None:
        """Binds every weight of the entry point from `weights` (torch tensors, by name)."""
        for spec in self.spec["inputs"]:
            if spec["role"] == "weight":
                value = weights[spec["name"]]
                value = value.detach().numpy() if isinstance(value, torch.Tensor) else value
                self.session.set_weight(spec["name"], value.astype(self.numpy_type))
                self.weights[spec["name"]] = value

    def __call__(self, data: np.ndarray, states: dict | None = None) -> dict:
        """Every output by name, on the data input and the states by name (floats converted to
        the artifact's element type, integers kept)."""
        inputs = {self.spec["inputs"][0]["name"]: data}
        for spec in self.spec["inputs"][1:]:
            if spec["role"] == "state":
                inputs[spec["name"]] = states[spec["name"]]
        return self.invoke(inputs)

    def invoke(self, inputs: dict) -> dict:
        """Every output by name, on every input and state by name."""
        return self.session.invoke_map(self.name, {name: self._cast(value)
                                                   for name, value in inputs.items()})

    def output(self, data: np.ndarray) -> np.ndarray:
        """The first output of a stateless call."""
        return self(data)[self.spec["outputs"][0]["name"]]

    def launches(self) -> int:
        """Kernels the last call launched."""
        return self.session.device_stats().last_call_launches

    def _cast(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value)
        return value.astype(self.numpy_type) if value.dtype.kind == "f" else value

    def close(self) -> None:
        self.session.close()

