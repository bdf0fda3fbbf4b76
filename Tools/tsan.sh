#!/usr/bin/env bash
# Tools/tsan.sh — the unit and client tests under ThreadSanitizer.
#
#   Tools/tsan.sh                 every test target except the broker suites (ConformanceTests,
#                                 InteropTests), which need the brokers and run child processes
#   Tools/tsan.sh --filter NAME   only NAME (swift test --filter syntax)
#
# Builds into .build-tsan with `--sanitize=thread -DTRIBUTARY_TSAN` (the define makes the
# project's lock, `Locked`, visible to ThreadSanitizer; see Sources/TributaryWire/Locked.swift),
# runs the tests and fails when ThreadSanitizer reported anything, printing each report's first
# lines. The full log is .build-tsan/tsan.log. Takes about 15 minutes on two cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
flags=(--sanitize=thread --scratch-path .build-tsan -Xswiftc -DTRIBUTARY_TSAN)
selection=(--skip 'ConformanceTests|InteropTests')
if (($# > 0)); then selection=("$@"); fi
echo "+ swift build --build-tests ${flags[*]}"
swift build --build-tests "${flags[@]}"
log=.build-tsan/tsan.log
status=0
echo "+ swift test --skip-build ${flags[*]} ${selection[*]}"
# halt_on_error=0: report every race, not only the first; the count decides.
TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
    swift test --skip-build "${flags[@]}" "${selection[@]}" >"$log" 2>&1 || status=$?
grep -E '^(✔|✘) Test run' "$log" || true
reports=$(grep -c 'WARNING: ThreadSanitizer' "$log" || true)
if ((reports > 0)); then
    echo "tsan.sh: $reports ThreadSanitizer report(s); the first lines of each:" >&2
    grep -A6 'WARNING: ThreadSanitizer' "$log" | grep -E 'WARNING|#0|#1 ' | sed -E 's/ \(.*//' | head -80 >&2
    exit 1
fi
if ((status != 0)) && [[ "${TSAN_TEST_FAILURES:-fail}" == warn ]]; then
    # Tools/test.sh: the tests' own checks ran in the normal run; under the sanitizer's 2-10x
    # slowdown their timeouts can run out, so only a ThreadSanitizer report fails this step.
    echo "tsan.sh: warning: tests failed under ThreadSanitizer (exit $status), no race reported; see $log" >&2
    grep -E '^✘ Test .* recorded' "$log" | head -10 >&2
    echo "tsan.sh: no ThreadSanitizer reports"
    exit 0
fi
if ((status != 0)); then
    echo "tsan.sh: tests failed under ThreadSanitizer (exit $status); see $log" >&2
    grep -E '^✘' "$log" | head -20 >&2
    exit "$status"
fi
echo "tsan.sh: no ThreadSanitizer reports"
