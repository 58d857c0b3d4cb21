"""Compiling nl IR with hope-compile and calling the artifact through its ABI
(docs/artifact-abi.md) with ctypes: an independent check of what the compiler emits,
written against the documented contract only."""

from __future__ import annotations

import ctypes
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.torch import load_file

_DTYPES = {"f32": (np.float32, ctypes.c_float), "f64": (np.float64, ctypes.c_double),
           "i64": (np.int64, ctypes.c_int64)}


def compile_module(hope_compile: Path, source: str, directory: Path, name: str) -> Path:
    mlir = directory / f"{name}.mlir"
    library = directory / f"{name}.so"
    mlir.write_text(source)
    result = subprocess.run([str(hope_compile), str(mlir), "-o", str(library)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"hope-compile failed on {mlir}:\n{result.stderr[-4000:]}")
    return library


def build_model(hope_models: Path, hope_compile: Path, directory: Path, name: str,
                model_args: list[str], compile_args: tuple[str, ...] = ()) -> Path:
    """`hope-models MODEL_ARGS -o NAME.mlir`, then `hope-compile COMPILE_ARGS` it into NAME.so."""
    source = directory / f"{name}.mlir"
    library = directory / f"{name}.so"
    for command in ([hope_models, *model_args, "-o", source],
                    [hope_compile, *compile_args, source, "-o", library]):
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed:\n{result.stderr[-4000:]}")
    return library


def relative_error(y: np.ndarray, reference: np.ndarray) -> float:
    """max |y - reference| / max |reference|, after checking that the shapes agree."""
    assert y.shape == reference.shape, (y.shape, reference.shape)
    return float(np.abs(y - reference).max() / np.abs(reference).max())


@dataclass
class SeededModel:
    """A model hope-models built and hope-compile compiled, and the seeded weights hope-models
    wrote for it (torch, float64: the references' precision)."""
    artifact: Artifact
    weights: dict

    def error(self, name: str, data: np.ndarray, reference: np.ndarray, numpy_type) -> float:
        """The relative error of entry point `name` on `data` and the weights (as `numpy_type`)
        against `reference`, printed."""
        (y,) = self.artifact.run_with_weights(name, data, self.weights, numpy_type)
        error = relative_error(y, reference)
        print(f"{name} {np.dtype(numpy_type).name} error {error:.1e}")
        return error


def build_seeded_model(hope_models: Path, hope_compile: Path, directory: Path, name: str,
                       model_args: list[str]) -> SeededModel:
    """build_model with `--weights-out=NAME.safetensors`, loaded."""
    weights_file = directory / f"{name}.safetensors"
    library = build_model(hope_models, hope_compile, directory, name,
                          [*model_args, f"--weights-out={weights_file}"])
    weights = {key: value.double() for key, value in load_file(str(weights_file)).items()}
    return SeededModel(Artifact(library), weights)


def _descriptor_type(rank: int):
    class Descriptor(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * rank),
                    ("strides", ctypes.c_int64 * rank)]
    return Descriptor


_libc = ctypes.CDLL(None)
_libc.aligned_alloc.restype = ctypes.c_void_p
_libc.aligned_alloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
_libc.free.argtypes = [ctypes.c_void_p]

_AllocFn = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)
_FreeFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


@_AllocFn
def _services_alloc(_context, size, alignment):
    alignment = max(alignment, 64)
    return _libc.aligned_alloc(alignment, max(-(-size // alignment) * alignment, alignment))


@_FreeFn
def _services_free(_context, pointer):
    _libc.free(pointer)


class Services(ctypes.Structure):
    """runtime/include/hope/artifact.h's hope_services, version 1: the C library's memory."""
    _fields_ = [("struct_size", ctypes.c_uint32), ("version", ctypes.c_uint32),
                ("context", ctypes.c_void_p), ("alloc", _AllocFn), ("free", _FreeFn)]


SERVICES = Services(ctypes.sizeof(Services), 1, None, _services_alloc, _services_free)


class PreconditionError(ValueError):
    """The artifact refused a call whose inputs break a precondition."""


class Artifact:
    """A loaded artifact (each path is loaded once per process: give every build its own)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.library = ctypes.CDLL(str(path))
        text = ctypes.c_char_p(ctypes.addressof(ctypes.c_char.in_dll(self.library, "hope_manifest")))
        self.manifest = json.loads(text.value)

    def entry(self, name: str) -> dict:
        return next(e for e in self.manifest["entry_points"] if e["name"] == name)

    def run_with_weights(self, name: str, data: np.ndarray, weights: dict, numpy_type) -> list[np.ndarray]:
        """Calls entry point `name` on one data input followed by every weight, taken by its
        manifest name from `weights` (torch tensors, converted to `numpy_type`) and checked
        against the manifest's shape."""
        inputs = [np.asarray(data)]  # its dtype is the manifest's (float or token ids)
        for spec in self.entry(name)["inputs"][1:]:
            value = weights[spec["name"]].detach().numpy().astype(numpy_type)
            if list(value.shape) != spec["shape"]:
                raise ValueError(f"weight {spec['name']}: shape {list(value.shape)}, manifest {spec['shape']}")
            inputs.append(value)
        return self(name, *inputs)

    def __call__(self, name: str, *inputs: np.ndarray, services: Services = SERVICES) -> list[np.ndarray]:
        """Calls entry point `name`; the artifact's memory comes from `services` (the C
        library's by default; the outputs are freed with the C library's free, so any other
        table must allocate with it too)."""
        entry = self.entry(name)
        if len(inputs) != len(entry["inputs"]):
            raise ValueError(f"{name} takes {len(entry['inputs'])} inputs, got {len(inputs)}")
        keep, descriptors = [], []
        for spec, value in zip(entry["inputs"], inputs):
            array = np.ascontiguousarray(value, dtype=_DTYPES[spec["dtype"]][0])
            keep.append(array)
            d = _descriptor_type(array.ndim)()
            d.allocated = d.aligned = array.ctypes.data
            d.offset = 0
            for i in range(array.ndim):
                d.sizes[i] = array.shape[i]
                d.strides[i] = array.strides[i] // array.itemsize
            descriptors.append(d)
        outputs = [_descriptor_type(len(spec["shape"]))() for spec in entry["outputs"]]
        pointers = [ctypes.addressof(d) for d in descriptors + outputs]
        args = (ctypes.c_void_p * len(pointers))(*pointers)
        function = getattr(self.library, f"hope_entry_{name}")
        function.restype = ctypes.c_int32
        function.argtypes = [ctypes.c_void_p, ctypes.POINTER(Services)]
        broken = function(args, ctypes.byref(services))
        if broken:
            precondition = entry["preconditions"][broken - 1]
            raise PreconditionError(f"{name}: {precondition['message']}")
        results = []
        for spec, d in zip(entry["outputs"], outputs):
            numpy_type, c_type = _DTYPES[spec["dtype"]]
            rank = len(spec["shape"])
            shape = tuple(d.sizes[i] for i in range(rank))
            size = int(np.prod(shape))
            span = 1 + sum((s - 1) * d.strides[i] for i, s in enumerate(shape)) if size else 0
            base = np.ctypeslib.as_array(
                ctypes.cast(d.aligned, ctypes.POINTER(c_type)), shape=(d.offset + max(span, 1),))
            strides = tuple(d.strides[i] * np.dtype(numpy_type).itemsize for i in range(rank))
            view = np.lib.stride_tricks.as_strided(base[d.offset:], shape=shape, strides=strides)
            results.append(view.copy())
            _libc.free(ctypes.c_void_p(d.allocated))
        return results
