"""Shared test settings.

Hypothesis profiles (choose with HYPOTHESIS_PROFILE):
  chainrule  the default: 60 random examples per property, no deadline.
  ci         the same examples on every run (derandomized), used when CI is set, so that a
             submission's result does not depend on the draw; random exploration happens in
             the default and thorough profiles on developers' machines.
  thorough   1,000 random examples per property, for hunting rare failures before a release.
"""

import os

from hypothesis import HealthCheck, settings

# Property tests never time out on a loaded machine: CI runs on 2 shared cores.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("chainrule", max_examples=60, **_COMMON)
settings.register_profile("ci", max_examples=60, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "chainrule"))


def missing_system_tool(reason: str) -> None:
    """Skip the calling test module for a missing system tool on a developer's machine, but
    fail under CI, where `make test` installs it: a skip there would hide a failure."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{reason}; `make test` installs it as root, so CI must have it", pytrace=False)
    pytest.skip(reason, allow_module_level=True)  # also skips just the test, inside one
