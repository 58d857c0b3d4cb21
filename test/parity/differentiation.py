"""Compiling the vector-Jacobian products nl-differentiate emits (docs/training.md): the
model's IR lowered to the tensor IR of the `memories` phase, `@<name>_vjp` added by
`hope-opt --nl-differentiate`, then compiled into an artifact like any module."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from artifact import Artifact, relative_error


def _run(command: list) -> None:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{result.stderr[-4000:]}")


def compile_vjp(hope_compile: Path, hope_opt: Path, source: Path, functions: list[str],
                directory: Path, name: str, lower_memories: bool = True) -> Artifact:
    """An artifact holding the functions of `source` and their `_vjp`s."""
    tensors = directory / f"{name}.tensors.mlir"
    if lower_memories:
        _run([hope_compile, source, "--compile-to=memories", "-o", tensors])
    else:
        tensors.write_text(Path(source).read_text())
    differentiated = directory / f"{name}.vjp.mlir"
    _run([hope_opt, tensors, f"--nl-differentiate=functions={','.join(functions)}",
          "-o", differentiated])
    library = directory / f"{name}.so"
    # -O0: the gradients are what is checked, not LLVM's optimisation, and it
    # halves the compile time of these tiny models.
    _run([hope_compile, differentiated, "-O0", "-o", library])
    return Artifact(library)


def finite_difference_vjp(forward, inputs: list[np.ndarray], cotangents: list[np.ndarray],
                          step: float = 1e-6) -> list[np.ndarray]:
    """d <cotangents, forward(inputs)> / d inputs by central differences, element by element
    (float64; the inputs are small)."""
    def objective(values):
        return sum(float(np.sum(c * y)) for c, y in zip(cotangents, forward(*values)))

    gradients = []
    for index, value in enumerate(inputs):
        gradient = np.zeros_like(value)
        for position in np.ndindex(value.shape):
            shifted = [v.copy() for v in inputs]
            shifted[index][position] = value[position] + step
            up = objective(shifted)
            shifted[index][position] = value[position] - step
            down = objective(shifted)
            gradient[position] = (up - down) / (2 * step)
        gradients.append(gradient)
    return gradients


def check_vjp(artifact: Artifact, name: str, inputs: list[np.ndarray], cotangents: list[np.ndarray],
              tolerance: float = 1e-7) -> None:
    """`<name>_vjp` of the artifact on `inputs` and `cotangents`: its results equal `name`'s, and
    its adjoints equal central finite differences of `name` (relative error below `tolerance`)."""
    outputs = artifact(f"{name}_vjp", *inputs, *cotangents)
    results, gradients = outputs[:len(cotangents)], outputs[len(cotangents):]
    for result, expected in zip(results, artifact(name, *inputs)):
        assert np.array_equal(result, expected)
    expected = finite_difference_vjp(lambda *x: artifact(name, *x), inputs, cotangents)
    for index, (gradient, reference) in enumerate(zip(gradients, expected)):
        error = relative_error(gradient, reference)
        print(f"{name}: d/d input {index}: error {error:.1e}")
        assert error < tolerance, (name, index, error)
