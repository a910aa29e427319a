#!/usr/bin/env bash
# Builds and runs everything that is tested: the unit tests (swift test), then the scenario
# suite against real ktrdrd processes (release build). Last line: "tests: N passed, N failed".
#   bash scripts/test.sh            # all
#   bash scripts/test.sh --unit     # unit tests only
set -uo pipefail
cd "$(dirname "$0")/.."
quiet() { grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting|Linking)|^(Building|Fetching|Computing|Creating|Working copy|Fetched|Computed)' || true; }

# .ci/run has installed them already (CI=true makes install-deps refresh the package lists).
[ "${CI:-}" = "true" ] || bash scripts/install-deps.sh --test || { echo "installing the test packages failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
swift build --build-tests 2>&1 | quiet
if [ "${PIPESTATUS[0]}" -ne 0 ]; then echo "build failed"; echo "tests: 0 passed, 1 failed"; exit 1; fi
log=$(mktemp)
swift test --skip-build --disable-swift-testing 2>&1 | tee "$log" | grep -E "error:|failed|Test Suite 'All tests'|Executed [0-9]+ tests"
unit_rc=${PIPESTATUS[0]}
line=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1)
unit_total=$(echo "$line" | sed -nE 's/.*Executed ([0-9]+) tests?.*/\1/p')
unit_failed=$(echo "$line" | sed -nE 's/.*with ([0-9]+) failures?.*/\1/p')
rm -f "$log"
[ -n "$unit_total" ] || { unit_total=1; unit_failed=1; }
echo "unit tests: $((unit_total - unit_failed)) passed, $unit_failed failed"

scn_passed=0; scn_failed=0
if [ "${1:-}" != "--unit" ]; then
  swift build -c release 2>&1 | quiet
  if [ "${PIPESTATUS[0]}" -ne 0 ]; then echo "release build failed"; scn_failed=1; else
    slog=$(mktemp)
    python3 Scenarios/run.py 2>&1 | tee "$slog"
    summary=$(grep -E "^scenarios: [0-9]+ passed, [0-9]+ failed" "$slog" | tail -1)
    scn_passed=$(echo "$summary" | sed -nE 's/scenarios: ([0-9]+) passed.*/\1/p'); scn_passed=${scn_passed:-0}
    scn_failed=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failed/\1/p'); scn_failed=${scn_failed:-1}
    rm -f "$slog"
  fi
fi
passed=$((unit_total - unit_failed + scn_passed)); failed=$((unit_failed + scn_failed))
echo "tests: $passed passed, $failed failed"
[ "$unit_rc" -eq 0 ] && [ "$failed" -eq 0 ]
