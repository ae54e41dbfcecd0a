"""Build hook: pyproject.toml holds the metadata; this file only declares the C extension.

The extension (the metadata scanner's directory lister) is optional: when it cannot be
compiled (no compiler, no Python headers, not Linux) the package still installs and the scan
uses its pure-Python twin, ``gpfskit.emulator.scan._pywalk``. Set ``GPFSKIT_NO_EXTENSION=1``
to skip it on purpose.
"""

import os
import sys

from setuptools import Extension, setup

ext_modules = []
if sys.platform.startswith("linux") and not os.environ.get("GPFSKIT_NO_EXTENSION"):
    ext_modules.append(
        Extension(
            "gpfskit.emulator.scan._walk",
            sources=["src/gpfskit/emulator/scan/_walk.c"],
            # Identical float rounding to the pure-Python twin: no fused multiply-add.
            extra_compile_args=["-O2", "-ffp-contract=off", "-std=gnu11"],
            optional=True,
        )
    )

setup(ext_modules=ext_modules)
