"""How many examples the fuzz properties run: few in CI, more on a workstation, as many as
asked for a long run (tests/fuzz/README.md).

The budget is a Hypothesis settings profile chosen when this module is imported (test modules
import it, so it applies whatever order pytest collects them in and whatever profile the
suite's own conftest loads):

- `migrate-fuzz-ci` when the CI environment variable is set: small, bounded counts;
- `migrate-fuzz-dev` otherwise;
- `MIGRATE_FUZZ_EXAMPLES=N` overrides both (every property runs N examples, every mutation
  fuzz N per mapping): the long run.

Each property passes its own weight (`fuzz_settings("heavy")` for a whole `migrate run` per
example), so the suite's cost stays known.

(Not named profile.py: pytest puts this folder on sys.path, where a module of that name would
stand in for the standard library's `profile`, which cProfile imports.)
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Examples per property by weight: a decoder call (light), a file through the per-chunk work
# (medium), a whole `migrate run` (heavy).
COUNTS = {
    "light": {"migrate-fuzz-ci": 40, "migrate-fuzz-dev": 150},
    "medium": {"migrate-fuzz-ci": 5, "migrate-fuzz-dev": 30},
    "heavy": {"migrate-fuzz-ci": 3, "migrate-fuzz-dev": 12},
}

_COMMON = {
    "deadline": None,  # a run's time depends on the machine's load: never a timed assertion
    "print_blob": True,  # a CI failure can be replayed with @reproduce_failure
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                              HealthCheck.function_scoped_fixture],
}

for _name, _count in COUNTS["light"].items():
    settings.register_profile(_name, max_examples=_count, **_COMMON)

PROFILE = "migrate-fuzz-ci" if os.environ.get("CI") else "migrate-fuzz-dev"


def _requested() -> int | None:
    text = os.environ.get("MIGRATE_FUZZ_EXAMPLES", "").strip()
    return int(text) if text else None


def fuzz_settings(weight: str = "light") -> settings:
    """The settings of one fuzz property: the profile's count for its weight, or the count
    asked for in MIGRATE_FUZZ_EXAMPLES."""
    count = _requested() or COUNTS[weight][PROFILE]
    return settings(settings.get_profile(PROFILE), max_examples=count)
