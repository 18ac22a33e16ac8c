"""Hypothesis profiles for the reliability tests: ``ci`` (default, fits the 10-minute suite)
and ``long`` (``CNNLAB_FUZZ_PROFILE=long``, used by ``bench/reliability.py --long``)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("CNNLAB_FUZZ_PROFILE", "ci"))
