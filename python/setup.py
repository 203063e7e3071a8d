"""setuptools build of the tlc Python package.

The build step copies the project's build products into the package, so that
``pip install ./python`` after the normal build (tools/dev/setup.sh) gives a
self-contained install:

    ../build/lib/libtlc_runtime.so  ->  tlc/_native/libtlc_runtime.so
    ../build/gpu-kernels/           ->  tlc/_native/kernels/   (when present)

$TLC_BUILD_DIR names another build folder. Without the library the package
still installs (it then finds the library through $TLC_RUNTIME_LIB).

The version is the project's, ``project(tlc VERSION ...)`` in the top-level
CMakeLists.txt, its one source: the build writes it to tlc/_version.py.
"""

import os
import re
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
BUILD = Path(os.environ.get("TLC_BUILD_DIR", HERE.parent / "build"))
VERSION = re.search(r"project\(tlc VERSION (\S+)",
                    (HERE.parent / "CMakeLists.txt").read_text()).group(1)


class BuildWithNative(build_py):
    """build_py, then copy the runtime library and the prebuilt kernels into
    <build_lib>/tlc/_native."""

    def run(self):
        super().run()
        (Path(self.build_lib) / "tlc" / "_version.py").write_text(
            f'"""Written by the package build (setup.py)."""\n'
            f'__version__ = "{VERSION}"\n')
        native = Path(self.build_lib) / "tlc" / "_native"
        library = BUILD / "lib" / "libtlc_runtime.so"
        kernels = BUILD / "gpu-kernels"
        if native.exists():
            shutil.rmtree(native)
        native.mkdir(parents=True)
        if library.is_file():
            shutil.copy2(library, native / library.name)
        else:
            sys.stderr.write(
                f"tlc: warning: {library} not found (build the project with "
                "tools/dev/setup.sh first); the package will need "
                "TLC_RUNTIME_LIB\n")
        if kernels.is_dir():
            shutil.copytree(kernels, native / "kernels",
                            ignore=shutil.ignore_patterns("*.tmp"))


class BinaryDistribution(Distribution):
    """The wheel carries a native library: give it a platform tag."""

    def has_ext_modules(self):
        return True


# Keep build by-products out of the source tree: under the project's build/
# folder, which git ignores.
SCRATCH = HERE.parent / "build" / "python"
(SCRATCH / "egg-info").mkdir(parents=True, exist_ok=True)

setup(
    version=VERSION,
    cmdclass={"build_py": BuildWithNative},
    distclass=BinaryDistribution,
    options={
        "build": {"build_base": str(SCRATCH / "build")},
        "egg_info": {"egg_base": str(SCRATCH / "egg-info")},
    },
)
