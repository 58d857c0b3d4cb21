"""The runtime's C API (runtime/include/hope/runtime.h) through ctypes, for tests that run
compiled artifacts the way a host program does: module, session, tensors that borrow numpy's
memory with its strides, and calls by name (hope_session_invoke_map). Every status is checked;
a failure raises RuntimeApiError with the runtime's message."""

from __future__ import annotations

import ctypes
import json
from pathlib import Path

import numpy as np

_DTYPES = {np.dtype(np.float32): 1, np.dtype(np.float64): 2, np.dtype(np.int64): 3}
_NUMPY = {code: dtype for dtype, code in _DTYPES.items()}

_p = ctypes.c_void_p
_i64p = ctypes.POINTER(ctypes.c_int64)


class RuntimeApiError(RuntimeError):
    def __init__(self, code: int, message: str):
        super().__init__(f"[{code}] {message}")
        self.code = code


class SessionOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("threads", ctypes.c_int32),
                ("device", ctypes.c_int), ("allocator", _p)]


class DeviceStats(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("calls", ctypes.c_uint64),
                ("launches", ctypes.c_uint64), ("last_call_launches", ctypes.c_uint64),
                ("bytes_in_use", ctypes.c_uint64), ("bytes_peak", ctypes.c_uint64),
                ("bytes_reserved", ctypes.c_uint64)]


DEVICE_HOST, DEVICE_CUDA = 1, 2  # hope_device


class Runtime:
    """libhope_runtime.so, loaded from the build's lib/ folder."""

    def __init__(self, build: Path):
        self.lib = lib = ctypes.CDLL(str(build / "lib" / "libhope_runtime.so"))
        signatures = {
            "hope_status_message": ([_p], ctypes.c_char_p), "hope_status_code": ([_p], ctypes.c_int),
            "hope_status_free": ([_p], None),
            "hope_module_load": ([ctypes.c_char_p, ctypes.POINTER(_p)], _p),
            "hope_module_release": ([_p], None),
            "hope_module_manifest": ([_p, ctypes.POINTER(ctypes.c_char_p)], _p),
            "hope_module_threads": ([_p, ctypes.POINTER(ctypes.c_int32)], _p),
            "hope_session_create": ([_p, ctypes.POINTER(SessionOptions), ctypes.POINTER(_p)], _p),
            "hope_session_release": ([_p], None),
            "hope_tensor_wrap": ([ctypes.c_int, ctypes.c_size_t, _i64p, _i64p, _p, ctypes.POINTER(_p)], _p),
            "hope_tensor_release": ([_p], None),
            "hope_tensor_dtype": ([_p, ctypes.POINTER(ctypes.c_int)], _p),
            "hope_tensor_shape": ([_p, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(_i64p),
                                   ctypes.POINTER(_i64p)], _p),
            "hope_tensor_copy_to": ([_p, _p, ctypes.c_size_t], _p),
            "hope_tensor_map_create": ([ctypes.POINTER(_p)], _p),
            "hope_tensor_map_release": ([_p], None),
            "hope_tensor_map_set": ([_p, ctypes.c_char_p, _p], _p),
            "hope_tensor_map_size": ([_p, ctypes.POINTER(ctypes.c_size_t)], _p),
            "hope_tensor_map_entry": ([_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p),
                                       ctypes.POINTER(_p)], _p),
            "hope_session_invoke_map": ([_p, ctypes.c_char_p, _p, ctypes.POINTER(_p)], _p),
            "hope_session_set_weight": ([_p, ctypes.c_char_p, _p, ctypes.c_int], _p),
            "hope_session_device_stats": ([_p, ctypes.POINTER(DeviceStats)], _p),
            "hope_tensor_to_device": ([_p, _p, ctypes.POINTER(_p)], _p),
        }
        for name, (argtypes, restype) in signatures.items():
            function = getattr(lib, name)
            function.argtypes, function.restype = argtypes, restype

    def check(self, status) -> None:
        if status:
            code = self.lib.hope_status_code(status)
            message = self.lib.hope_status_message(status).decode()
            self.lib.hope_status_free(status)
            raise RuntimeApiError(code, message)

    def wrap(self, array: np.ndarray):
        """A tensor borrowing `array`'s memory, with its strides (in elements, any sign)."""
        rank = array.ndim
        shape = (ctypes.c_int64 * max(rank, 1))(*array.shape)
        strides = (ctypes.c_int64 * max(rank, 1))(*[s // array.itemsize for s in array.strides])
        tensor = _p()
        self.check(self.lib.hope_tensor_wrap(_DTYPES[array.dtype], rank, shape, strides,
                                             array.ctypes.data, ctypes.byref(tensor)))
        return tensor

    def to_numpy(self, tensor) -> np.ndarray:
        dtype, rank = ctypes.c_int(), ctypes.c_size_t()
        shape, strides = _i64p(), _i64p()
        self.check(self.lib.hope_tensor_dtype(tensor, ctypes.byref(dtype)))
        self.check(self.lib.hope_tensor_shape(tensor, ctypes.byref(rank), ctypes.byref(shape),
                                              ctypes.byref(strides)))
        out = np.empty([shape[i] for i in range(rank.value)], dtype=_NUMPY[dtype.value])
        self.check(self.lib.hope_tensor_copy_to(tensor, out.ctypes.data, out.nbytes))
        return out


class Session:
    """A module loaded from `path` and one session of it, `threads` per invoke, on `device`
    (DEVICE_CUDA for "cuda" and "cuda-emulated" artifacts)."""

    def __init__(self, runtime: Runtime, path: Path, threads: int = 0, device: int = DEVICE_HOST):
        self.rt = runtime
        self.module, self.session = _p(), _p()
        runtime.check(runtime.lib.hope_module_load(str(path).encode(), ctypes.byref(self.module)))
        options = SessionOptions(ctypes.sizeof(SessionOptions), threads, device, None)
        runtime.check(runtime.lib.hope_session_create(self.module, ctypes.byref(options),
                                                      ctypes.byref(self.session)))
        self.device = device
        text = ctypes.c_char_p()
        runtime.check(runtime.lib.hope_module_manifest(self.module, ctypes.byref(text)))
        self.manifest = json.loads(text.value)

    def close(self) -> None:
        for tensor in self.__dict__.get("_device_weights", []):
            self.rt.lib.hope_tensor_release(tensor)
        self.rt.lib.hope_session_release(self.session)
        self.rt.lib.hope_module_release(self.module)

    def module_threads(self) -> int:
        """hope_module_threads: the OpenMP thread count of the calling thread now."""
        threads = ctypes.c_int32()
        self.rt.check(self.rt.lib.hope_module_threads(self.module, ctypes.byref(threads)))
        return threads.value

    def set_weight(self, name: str, array: np.ndarray) -> None:
        """hope_session_set_weight, as a mutable weight (a device session copies it when bound;
        a host session borrows the array, kept alive here)."""
        array = np.ascontiguousarray(array)
        self.__dict__.setdefault("_weights", {})[name] = array
        tensor = self.rt.wrap(array)
        try:
            self.rt.check(self.rt.lib.hope_session_set_weight(self.session, name.encode(), tensor, 2))
        finally:
            self.rt.lib.hope_tensor_release(tensor)

    def bind_device_weight(self, name: str, array: np.ndarray):
        """Copies `array` to the session's device and binds that device tensor as a mutable
        weight: an entry point that updates the weight in place (train_step) updates it
        there, and read_tensor reads it back. The session keeps the tensor until close."""
        host = self.rt.wrap(np.ascontiguousarray(array))
        on_device = _p()
        try:
            self.rt.check(self.rt.lib.hope_tensor_to_device(self.session, host,
                                                            ctypes.byref(on_device)))
        finally:
            self.rt.lib.hope_tensor_release(host)
        self.__dict__.setdefault("_device_weights", []).append(on_device)
        self.rt.check(self.rt.lib.hope_session_set_weight(self.session, name.encode(), on_device, 2))
        return on_device

    def read_tensor(self, tensor) -> np.ndarray:
        """A tensor's elements (on the host or a device), copied out dense."""
        return self.rt.to_numpy(tensor)

    def device_stats(self) -> DeviceStats:
        stats = DeviceStats(ctypes.sizeof(DeviceStats))
        self.rt.check(self.rt.lib.hope_session_device_stats(self.session, ctypes.byref(stats)))
        return stats

    def entry(self, name: str) -> dict:
        return next(e for e in self.manifest["entry_points"] if e["name"] == name)

    def invoke_map(self, function: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """hope_session_invoke_map: every array is wrapped (not copied; on a device, copied
        there) and the outputs, by name, copied out dense."""
        lib, check = self.rt.lib, self.rt.check
        keep = list(inputs.values())  # the wrapped memory lives until the call returns
        map_in, map_out = _p(), _p()
        check(lib.hope_tensor_map_create(ctypes.byref(map_in)))
        try:
            for name, array in inputs.items():
                tensor = self.rt.wrap(array)
                if self.device != DEVICE_HOST:
                    on_device = _p()
                    try:
                        check(lib.hope_tensor_to_device(self.session, tensor, ctypes.byref(on_device)))
                    finally:
                        lib.hope_tensor_release(tensor)
                    tensor = on_device
                try:
                    check(lib.hope_tensor_map_set(map_in, name.encode(), tensor))
                finally:
                    lib.hope_tensor_release(tensor)
            check(lib.hope_session_invoke_map(self.session, function.encode(), map_in,
                                              ctypes.byref(map_out)))
        finally:
            lib.hope_tensor_map_release(map_in)
        del keep
        try:
            size = ctypes.c_size_t()
            check(lib.hope_tensor_map_size(map_out, ctypes.byref(size)))
            outputs = {}
            for index in range(size.value):
                name, tensor = ctypes.c_char_p(), _p()
                check(lib.hope_tensor_map_entry(map_out, index, ctypes.byref(name), ctypes.byref(tensor)))
                outputs[name.value.decode()] = self.rt.to_numpy(tensor)
            return outputs
        finally:
            lib.hope_tensor_map_release(map_out)
