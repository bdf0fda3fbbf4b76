#!/usr/bin/env bash
# Tools/fuzz.sh — builds and runs the libFuzzer targets of Tools/fuzz (decoders of peer input).
#
#   Tools/fuzz.sh --list                 the target names
#   Tools/fuzz.sh TARGET [SECONDS]       build (incrementally), then fuzz TARGET for SECONDS (default 60)
#   Tools/fuzz.sh all [SECONDS]          every target in turn, SECONDS each
#   Tools/fuzz.sh --build                build only
#
# The targets are built with the fuzzer and address sanitizers and -parse-as-library,
# in release mode, into .build/fuzz. Each target's corpus lives in .build/fuzz-corpus/TARGET: on
# first use it is seeded from the golden test fixtures (Tools/fuzz/fixture_seeds.py), from the
# target's own encoders (the target writes them when TRIBUTARY_FUZZ_WRITE_SEEDS is set) and from
# Tools/fuzz/Seeds/TARGET if present; libFuzzer adds what it finds to it.
#
# Exits non-zero when a target crashes (a trap, an ASan report or a violated invariant) or leaks;
# the crashing input is kept in .build/fuzz-artifacts/TARGET/ and its path is printed. Turn it
# into a fixture under Tests/Fixtures/fuzz/ and a unit test in the decoder's test target.
#
# Environment:
#   FUZZ_NICE=N          run the fuzzer under `nice -n N` (default 0)
#   FUZZ_SKIP_BUILD=1    use the binaries already in .build/fuzz (after `Tools/fuzz.sh --build`)
#   FUZZ_ARGS="..."      extra libFuzzer flags, e.g. "-max_len=65536 -jobs=2"
#   CI=true              no colours, one summary line per target (the same exit status)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
FUZZ_PACKAGE="$SCRIPT_DIR/fuzz"
SCRATCH="$REPO_ROOT/.build/fuzz"
CORPORA="$REPO_ROOT/.build/fuzz-corpus"
ARTIFACTS="$REPO_ROOT/.build/fuzz-artifacts"

say() { printf 'fuzz.sh: %s\n' "$*" >&2; }
die() { printf 'fuzz.sh: error: %s\n' "$*" >&2; exit 2; }

targets() {
    sed -n 's/^ *("\(fuzz-[a-z0-9-]*\)".*/\1/p' "$FUZZ_PACKAGE/Package.swift"
}

build() {
    say "building the fuzz targets (release, fuzzer + address sanitizers) into ${SCRATCH#"$REPO_ROOT"/}"
    # --sanitize=fuzzer tells SwiftPM that libFuzzer provides main (so it does not rename the entry
    # point); the sanitizers themselves come from one -sanitize=fuzzer,address flag placed last, as
    # separate -sanitize= flags (what --sanitize=fuzzer --sanitize=address gives, in no fixed order)
    # let the last one win and can drop the coverage instrumentation.
    swift build -c release --package-path "$FUZZ_PACKAGE" --scratch-path "$SCRATCH" --sanitize=fuzzer \
        -Xswiftc -parse-as-library -Xswiftc -enable-testing -Xswiftc -sanitize=fuzzer,address
}

seed() {
    local target=$1 corpus=$2 binary=$3
    mkdir -p "$corpus"
    [[ -n "$(ls -A "$corpus" 2>/dev/null)" ]] && return 0
    TRIBUTARY_FUZZ_WRITE_SEEDS="$corpus" "$binary" >/dev/null 2>&1 ||
        die "$target could not write its seeds into $corpus"
    python3 "$FUZZ_PACKAGE/fixture_seeds.py" "$target" "$corpus" >&2
    if [[ -d "$FUZZ_PACKAGE/Seeds/$target" ]]; then
        cp "$FUZZ_PACKAGE/Seeds/$target"/* "$corpus"/ 2>/dev/null || true
    fi
    say "$target: $(find "$corpus" -type f | wc -l) seeds in ${corpus#"$REPO_ROOT"/}"
}

# Runs one target; prints one summary line; returns non-zero on a crash.
run() {
    local target=$1 seconds=$2
    local binary="$SCRATCH/release/$target"
    local corpus="$CORPORA/$target" artifacts="$ARTIFACTS/$target"
    local log="$ARTIFACTS/$target.log"
    [[ -x "$binary" ]] || die "no binary $binary: is '$target' one of: $(targets | tr '\n' ' ')?"
    seed "$target" "$corpus" "$binary"
    mkdir -p "$artifacts"
    local nice_cmd=()
    [[ -n "${FUZZ_NICE:-}" ]] && nice_cmd=(nice -n "$FUZZ_NICE")
    local status=0 started=$SECONDS
    # Swift's crash backtracer would run after libFuzzer's own report (and trips ASan itself).
    export SWIFT_BACKTRACE=enable=no
    # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
    "${nice_cmd[@]}" "$binary" "$corpus" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$artifacts/" -rss_limit_mb=2048 -timeout=25 ${FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
    local elapsed=$((SECONDS - started))
    local executions
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    if [[ -z "$executions" ]]; then
        # A crash ends the run before the final stats; take the last progress line.
        executions="$(grep -o '#[0-9]*' "$log" | tail -n 1 | tr -d '#')"
    fi
    executions=${executions:-0}
    local rate=$((executions / (elapsed > 0 ? elapsed : 1)))
    if ((status == 0)); then
        printf '%-30s ok     %12s executions in %4d s (%s/s), corpus %s inputs\n' \
            "$target" "$executions" "$elapsed" "$rate" "$(find "$corpus" -type f | wc -l)"
        return 0
    fi
    local input
    input="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    printf '%-30s FAILED %12s executions in %4d s (libFuzzer exit %d)\n' "$target" "$executions" "$elapsed" "$status"
    {
        echo "---- $target: last lines of ${log#"$REPO_ROOT"/} ----"
        grep -E 'fuzz invariant violated|ERROR: AddressSanitizer|ERROR: libFuzzer|Fatal error|SUMMARY' "$log" | head -n 10 || true
        tail -n 25 "$log"
        echo "---- crashing input: ${input:-none written} ----"
        echo "reproduce: $binary ${input:-<input>}"
    } >&2
    return 1
}

(($# >= 1)) || die "usage: Tools/fuzz.sh --list | --build | TARGET|all [SECONDS]"
command -v swift >/dev/null 2>&1 || die "swift not found on PATH"

case "$1" in
--list)
    targets
    exit 0
    ;;
--build)
    build
    exit 0
    ;;
esac

selection=$1
seconds=${2:-60}
[[ "$seconds" =~ ^[0-9]+$ ]] || die "SECONDS must be a whole number, not '$seconds'"
if [[ "$selection" == all ]]; then
    mapfile -t chosen < <(targets)
else
    targets | grep -qx -- "$selection" || die "unknown target '$selection'; Tools/fuzz.sh --list shows them"
    chosen=("$selection")
fi

[[ "${FUZZ_SKIP_BUILD:-}" == 1 ]] || build
failed=()
for target in "${chosen[@]}"; do
    run "$target" "$seconds" || failed+=("$target")
done
if ((${#failed[@]} > 0)); then
    say "FAILED: ${failed[*]} (crashing inputs in ${ARTIFACTS#"$REPO_ROOT"/}/)"
    exit 1
fi
say "${#chosen[@]} target(s) ran ${seconds} s each without a crash"
