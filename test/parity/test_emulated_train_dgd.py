"""train_step of a memory level with DGD alone (linear model, L2 objective, chunk 4, 2 heads,
width 4) through the emulated CUDA target: its reversed chunk loop carries a buffer whose layout
bufferization could not tell, given an identity layout since (codegen/lib/CUDA/CUDABackend.cpp,
"bufferized"), so nl-cuda-form-kernels makes memory stages of it. 3 AdamW steps with clipping on
the device against torch.optim.AdamW after clip_grad_norm_, with autograd through the
token-by-token reference (test/reference/memory.py), mean squared error against targets, batch 2,
T = 10 (not a multiple of the chunk): losses, gradient norms, the weight and both moments read
back, float64 to 1e-9 (as test_emulated_train_step.py). Compiled once at -O0: about a second."""

from __future__ import annotations

import numpy as np
import torch

from conftest import BUILD
from emulated import compile_source_emulated
from memory_ir import memory_function
from reference import memory as ref
from runtime_api import Runtime
from test_emulated_train_step import DeviceTrainStep

B, H, D, T, CHUNK = 2, 2, 4, 10, 4
LR, STEPS, WEIGHT_DECAY, CLIP, BETA1 = 1e-2, 3, 0.01, 1.0, 0.9
SPEC = ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.DGD(), chunk=CHUNK)


def _data():
    gen = torch.Generator().manual_seed(0)
    rand = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)
    k, v, q = rand(B, H, T, D), rand(B, H, T, D), rand(B, H, T, D)
    lr = 0.02 + 0.08 * torch.rand(B, H, T, generator=gen, dtype=torch.float64)
    retention = 0.8 + 0.2 * torch.rand(B, H, T, generator=gen, dtype=torch.float64)
    return {"keys": k, "values": v, "lr": lr, "retention": retention, "queries": q}, \
        rand(B, H, T, D), 0.5 * rand(H, D, D)


def _reference_loss(w, data, targets):
    y, _ = ref.run_and_read(SPEC, [w], data["keys"], data["values"], data["lr"],
                            data["queries"], "after", data["retention"], [])
    return ((y - targets) ** 2).sum() / y.numel()


def test_dgd_memory_level_adamw_steps_on_the_device(hope_compile, tmp_path):
    source = tmp_path / "linear-dgd.mlir"
    source.write_text(memory_function(SPEC, H, D, D, "after", "f64"))
    library = compile_source_emulated(
        hope_compile, source, tmp_path / "linear-dgd.so",
        ("--train", "--optimizer=adamw", f"--weight-decay={WEIGHT_DECAY}", f"--clip={CLIP}"))
    data, targets, w0 = _data()
    model = DeviceTrainStep(Runtime(BUILD), library, {"M.W": w0}, "f64")
    leaf = w0.clone().requires_grad_()
    optimizer = torch.optim.AdamW([leaf], lr=LR, betas=(BETA1, 0.999), eps=1e-8,
                                  weight_decay=WEIGHT_DECAY)
    try:
        for step in range(1, STEPS + 1):
            outputs = model.session.invoke_map("train_step", {
                **{name: value.numpy() for name, value in data.items()},
                "targets": targets.numpy(), "learning_rate": np.array(LR),
                "step": np.array(step, np.int64)})
            loss, norm = float(outputs["loss"]), float(outputs["grad_norm"])
            optimizer.zero_grad()
            reference_loss = _reference_loss(leaf, data, targets)
            reference_loss.backward()
            reference_norm = float(torch.nn.utils.clip_grad_norm_([leaf], CLIP))
            optimizer.step()
            reference_loss = float(reference_loss.detach())
            print(f"step {step}: loss {loss:.12f} (torch {reference_loss:.12f}), grad_norm "
                  f"{norm:.9e} (torch {reference_norm:.9e}), {model.launches()} launches")
            assert abs(loss - reference_loss) < 1e-9 * abs(reference_loss)
            assert abs(norm - reference_norm) < 1e-9 * reference_norm
        state = optimizer.state[leaf]
        for ours, theirs in (("M.W", leaf.detach()), ("M.W.adamw_m", state["exp_avg"]),
                             ("M.W.adamw_v", state["exp_avg_sq"])):
            theirs = theirs.numpy()
            error = np.abs(model.weight(ours) - theirs).max() / np.abs(theirs).max()
            print(f"{ours}: relative error {error:.1e}")
            assert error < 1e-9, (ours, error)
        assert np.abs(model.weight("M.W") - w0.numpy()).max() > 1e-4
    finally:
        model.close()
