#!/usr/bin/env bash
# scripts/test.sh: install what the tests need, build, run every test
# (unit, manifest fixtures, fuzz corpus, ASan/UBSan build, valgrind, and
# the integration tests on a real mount). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh || exit 1
exec tests/run.sh
