#!/usr/bin/env bash
# Refresh the two lock files from pyproject.toml's bounds (needs uv: pip install uv):
#   requirements/constraints.txt  the newest releases within the bounds: what CI and the README's
#                                 test command install, so a new release cannot turn main red
#   requirements/lowest.txt       the lower bounds themselves: CI's second pass tests them
set -euo pipefail
cd "$(dirname "$0")/.."
common=(pyproject.toml --extra test --python-version 3.11
        --python-platform x86_64-unknown-linux-gnu --no-header --quiet)
uv pip compile "${common[@]}" -o requirements/constraints.txt
uv pip compile "${common[@]}" --resolution lowest-direct -o requirements/lowest.txt
