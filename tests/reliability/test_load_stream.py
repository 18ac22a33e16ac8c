"""``predict`` and ``evaluate`` on a long stream of images run in bounded memory (issue 14).

100,000 images per case by default; 1,000,000 with ``CNNLAB_FUZZ_PROFILE=long``. After the
warm-up the resident set may grow by at most ``load_probe.allowed_growth_mb``: 50 MB plus twice
what ``predict`` returns; nothing per batch may stay behind (see ``load_probe.py``).
"""

import os

import pytest
import tally
from load_probe import allowed_growth_mb, probe

IMAGES = 1_000_000 if os.environ.get("CNNLAB_FUZZ_PROFILE") == "long" else 100_000


@pytest.mark.parametrize("source", ["generator", "sequence"])
@pytest.mark.parametrize("method", ["evaluate", "predict"])
def test_memory_stays_flat_over_a_stream_of_images(method, source):
    figures = probe(method, IMAGES, source)
    bound = allowed_growth_mb(method, IMAGES)
    held = figures.growth_mb <= bound
    tally.record("load checks / within bounds", held=held)
    assert held, (f"{method} over {IMAGES:,} images from a {source}: RSS grew "
                  f"{figures.growth_mb:.1f} MB after warm-up ({figures.rss_start_mb} -> "
                  f"{figures.rss_peak_mb} MB), more than {bound:.1f} MB")
