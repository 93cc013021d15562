"""Build the dedup kernels (cleanup/dedup/_kernels.c); everything else is in pyproject.toml.

The extension is optional: where no C compiler is found, the install goes on without it and
cleanup/dedup/kernels.py uses numpy, which gives the same values more slowly.
"""

import sys

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cleanup.dedup._kernels",
            ["cleanup/dedup/_kernels.c"],
            extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
            optional=True,
        )
    ]
)
