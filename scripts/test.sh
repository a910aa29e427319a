#!/usr/bin/env bash
# Builds and runs the test suite. The last line is "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting)' || true
if [ "${PIPESTATUS[0]}" -ne 0 ]; then echo "build failed"; echo "tests: 0 passed, 1 failed"; exit 1; fi
log=$(mktemp)
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" | grep -E "error:|failed|Test Suite 'All tests'|Executed [0-9]+ tests" 
rc=${PIPESTATUS[0]}
line=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1)
total=$(echo "$line" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$line" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
rm -f "$log"
if [ -z "$total" ]; then echo "tests: 0 passed, 1 failed"; exit 1; fi
echo "tests: $((total - failed)) passed, $failed failed"
exit $rc
