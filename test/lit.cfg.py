# lit configuration of the HOPE compiler's FileCheck tests.
import os
import platform

import lit.formats
import lit.util
from lit.llvm import llvm_config

config.name = "HOPE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.hope_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "Inputs"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["hope-opt", "hope-compile", "hope-models", "hope-inspect"], [os.path.join(config.hope_obj_root, "bin")])

# The example models, so tests check the very IR the project ships.
config.substitutions.append(("%models", os.path.join(config.hope_src_root, "models")))
config.substitutions.append(("%docs", os.path.join(config.hope_src_root, "docs")))
config.substitutions.append(("%hope_obj_root", config.hope_obj_root))

# Tests that name CPUs of one architecture.
if platform.machine() in ("x86_64", "AMD64"):
    config.available_features.add("x86_64")

# The NVIDIA driver, where this machine has one (the runtime loads it with
# dlopen), and the CUDA toolkit's link stub of it (tests load it in its place).
import ctypes
try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
for stub in ("/usr/local/cuda/lib64/stubs/libcuda.so",
             "/usr/local/cuda/targets/x86_64-linux/lib/stubs/libcuda.so"):
    if os.path.exists(stub):
        config.available_features.add("cuda-stub")
        config.substitutions.append(("%cuda_stub", stub))
        break

# ptxas (the CUDA toolkit) for the CUDA backend's kernel checks.
ptxas = lit.util.which("ptxas", os.pathsep.join(
    [os.environ.get("CUDA_ROOT", "/usr/local/cuda") + "/bin", "/usr/local/cuda/bin",
     os.environ.get("PATH", "")]))
if ptxas:
    config.available_features.add("ptxas")
    llvm_config.with_environment("PATH", os.path.dirname(ptxas), append_path=True)

# With CI=true (scripts/test.sh) a test must not be skipped for lack of a
# feature it REQUIRES: CI is x86_64. Tests needing a tool (e.g. ptxas for CUDA)
# add a feature found with lit.util.which above and list it here.
ci_required_features = ["x86_64", "ptxas"]
if os.environ.get("CI") == "true":
    missing = [f for f in ci_required_features if f not in config.available_features]
    if missing:
        lit_config.fatal("CI=true but this machine lacks lit features required by "
                         f"tests: {', '.join(missing)}")
