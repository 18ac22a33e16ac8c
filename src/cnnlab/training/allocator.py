"""Host-memory allocator settings for training on the CPU (glibc ``malloc``).

A training step allocates and frees the same large activations and gradients every step.
With glibc's defaults the freed blocks go back to the operating system (the heap is trimmed
above a threshold that adapts to ~2x the largest freed block) and the next step faults every
page in again: ~6,000 page faults per step on the Keras MNIST example at batch 100, 20-30 %
of its step time (``bench/README.md``). :func:`tune` keeps them:

- ``M_MMAP_THRESHOLD = 16 MiB``: blocks below it come from the heap and are reused; larger
  ones (batch-1000 prediction activations) are still mapped and unmapped on their own, so
  they add nothing to the heap's high-water mark;
- ``M_TRIM_THRESHOLD = 128 MiB``: up to that much free heap stays mapped between steps.

``fit``, ``evaluate`` and ``predict`` call it once per process. Set ``CNNLAB_MALLOC_TUNING=0``
to keep the C library's defaults. It does nothing where the C library is not glibc. PyTorch
does not do this; Keras on TensorFlow has its own allocator instead.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 16 << 20
TRIM_THRESHOLD_BYTES = 128 << 20

_tuned: bool | None = None


def tune() -> bool:
    """Apply the settings above once per process; ``True`` when they are in effect."""
    global _tuned
    if _tuned is None:
        _tuned = _apply()
    return _tuned


def _apply() -> bool:
    if os.environ.get("CNNLAB_MALLOC_TUNING", "1").strip().lower() in {"0", "false", "no",
                                                                       "off"}:
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
