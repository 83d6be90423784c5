"""Shared test settings."""

import os

from hypothesis import HealthCheck, settings

# Property tests run a fixed number of examples and never time out on a loaded CI machine.
settings.register_profile(
    "chainrule", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chainrule"))
