# lit configuration for tlc: tests live next to this file, tools come from the
# build tree (tlc, tlc-opt) and from LLVM (FileCheck, not, split-file).
import os
import lit.formats

config.name = "tlc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".tl", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tlc_obj_root, "tests", "lit")

config.environment["PATH"] = os.pathsep.join(
    [config.tlc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%tlc_src", config.tlc_src_root))
config.substitutions.append(
    ("%expect-status", os.path.join(config.test_source_root, "expect-status")))
config.substitutions.append(("%python", "/usr/bin/env python3"))
cuda_home = os.environ.get("CUDA_HOME", "/usr/local/cuda")
config.substitutions.append(("%ptxas", os.path.join(cuda_home, "bin", "ptxas")))
