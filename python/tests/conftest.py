"""Makes the in-tree package importable (python/) when PYTHONPATH does not
already name it, and reports which runtime library the tests use."""

import sys
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parent.parent
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))


def pytest_report_header(config):
    try:
        import tlc
        return f"tlc: {tlc.__file__}; runtime: {tlc.library_path()}"
    except Exception as e:  # shown, not fatal: the tests say what failed
        return f"tlc: not loadable ({e})"
