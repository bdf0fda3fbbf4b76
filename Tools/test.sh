#!/usr/bin/env bash
# Tools/test.sh — the project's test command (README and .ci/run call it).
#
#   Tools/test.sh [swift test arguments...]      e.g. Tools/test.sh --filter NATSServerProcessTests
#   Tools/test.sh --external [swift test arguments...]
#                                                the brokers are yours: NATS_URL (JetStream on) and
#                                                KAFKA_BROKERS must be set and answer (for example
#                                                Tools/docker/docker-compose.yml); nothing is started
#                                                for them. The servers tests must kill or configure
#                                                themselves (auth, cluster, private fault-test
#                                                brokers) still run locally from Tools/brokers.sh.
#
# Installs the pinned brokers and peer clients (Tools/brokers.sh install), starts them on
# 127.0.0.1 and free ports, builds every target with tests, runs `swift test` and exits
# with its status. Brokers started here are stopped on exit; brokers that were already
# running (Tools/brokers.sh start by hand) are left running.
#
# Environment:
#   NATS_URL=nats://host:port   run the suite against that server instead of starting one
#   SWIFT_SCRATCH_PATH=DIR      passed to swift as --scratch-path (default .build)
#   TSAN_SUITES=REGEX           test suites of the ThreadSanitizer run (Tools/tsan.sh); none skips it
#   FUZZ_SMOKE_SECONDS=N        seconds per fuzz target in the fuzz smoke run (default 20)
#   CI=true                     non-interactive run on a fresh machine (missing apt packages
#                               are installed; needs root or passwordless sudo)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
BROKERS="$SCRIPT_DIR/brokers.sh"
cd "$REPO_ROOT"

say() { printf 'test.sh: %s\n' "$*" >&2; }
die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }

# Debian packages the build and the broker scripts need, installed only when missing.
ensure_system_packages() {
    local missing=()
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    if ! python3 -m pip --version >/dev/null 2>&1; then
        missing+=(python3-pip python3-venv)
    fi
    # The zlib system-library target (STYLE.md §2), once it exists.
    if [[ -d Sources/CZlib ]]; then
        command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
        pkg-config --exists zlib 2>/dev/null || missing+=(zlib1g-dev)
    fi
    # The OpenSSL system-library target (TLS), and the openssl command the TLS tests use to
    # make their certificates.
    if [[ -d Sources/COpenSSL ]]; then
        command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
        pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
        command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    fi
    # The reference zstd CLI: test-only, the zstd compressor tests check our frames with it.
    command -v zstd >/dev/null 2>&1 || missing+=(zstd)
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install them by hand"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "missing ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}'"
        fi
    fi
    say "apt-get install ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

external=0
if [[ "${1:-}" == "--external" ]]; then
    external=1
    shift
    export TRIBUTARY_EXTERNAL_BROKERS=1
    [[ -n "${NATS_URL:-}" ]] || die "--external needs NATS_URL (a nats-server with JetStream, e.g. nats://127.0.0.1:4222 from Tools/docker/docker-compose.yml)"
    [[ -n "${KAFKA_BROKERS:-}" ]] || die "--external needs KAFKA_BROKERS (host:port of a Kafka broker, e.g. 127.0.0.1:9092 from Tools/docker/docker-compose.yml)"
fi

command -v swift >/dev/null 2>&1 ||
    die "swift not found on PATH: install a Swift 6.3 toolchain (https://www.swift.org/install/linux/)"
ensure_system_packages

"$BROKERS" install

# Stop on exit only what this run started.
started_here=0
"$BROKERS" status >/dev/null 2>&1 || started_here=1
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local status=$?
    if ((started_here)); then
        if ((external)); then
            # Never stop the user's brokers, even ones an earlier run started and recorded.
            "$BROKERS" stop nats_auth nats_cluster || true
        else
            "$BROKERS" stop || true
        fi
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((external)); then
    # brokers.sh records NATS_URL and KAFKA_BROKERS from the environment and starts neither.
    say "external brokers: NATS_URL and KAFKA_BROKERS from the environment; nats_auth and nats_cluster start locally"
fi
"$BROKERS" start
# shellcheck disable=SC1091
. "$REPO_ROOT/.brokers/env"

scratch=()
[[ -n "${SWIFT_SCRATCH_PATH:-}" ]] && scratch=(--scratch-path "$SWIFT_SCRATCH_PATH")

echo "== Tributary tests =="
echo "swift:       $(swift --version 2>&1 | head -n 1)"
nats_version="$("$NATS_SERVER_BIN" --version 2>&1)"
echo "nats-server: ${nats_version#nats-server: } ($NATS_SERVER_BIN)"
echo "nats-py:     $("$TRIBUTARY_PYTHON" -c 'from importlib import metadata; print(metadata.version("nats-py"))') ($TRIBUTARY_PYTHON)"
echo "NATS_URL:    $(sed -E 's#(://)[^@/,]*@#\1***@#g' <<<"$NATS_URL")$( ((external)) && echo " (external)")"
echo "KAFKA:       $KAFKA_BROKERS$( ((external)) && echo " (external)")"
# shellcheck disable=SC1091
echo "machine:     $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}") $(uname -m), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') cores${CI:+, CI=$CI}"
echo

echo "+ swift build --build-tests ${scratch[*]}"
swift build --build-tests "${scratch[@]}"

status=0
if (($# > 0)); then
    echo "+ swift test ${scratch[*]} $*"
    swift test "${scratch[@]}" "$@" || status=$?
    exit "$status"
fi
# The unit suites first (the CPU-bound ones apart), then the suites that talk to real brokers
# and processes (and the client tests over in-memory streams, which run real threads), in three
# groups one after the other. Swift Testing starts every test of a run at once on a cooperative pool as wide as
# the machine has cores: a few hundred broker tests sharing two threads wait tens of seconds
# between their steps, past acknowledgement and session deadlines that are part of what they
# test. Each group has the cores to itself.
# The codec suites and the record-batch fuzzing are pure computation, seconds each in a debug
# build: run beside the other unit tests they held both pool threads for about a minute, and
# every test with a deadline (in-memory clients, fake brokers) stood still meanwhile. They get
# their own run.
BROKER_SUITES='ConformanceTests|InteropTests|TributaryNATSTests'
CPU_SUITES='TributaryCompressionTests|KafkaRecordBatchFuzzTests'
echo "+ swift test ${scratch[*]} --filter '$CPU_SUITES'"
swift test "${scratch[@]}" --filter "$CPU_SUITES" || status=$?
echo "+ swift test ${scratch[*]} --skip '$BROKER_SUITES|$CPU_SUITES'"
swift test "${scratch[@]}" --skip "$BROKER_SUITES|$CPU_SUITES" || status=$?
KAFKA_CONFORMANCE='ConformanceTests\.(Kafka|Bridge)'
echo "+ swift test ${scratch[*]} --filter '$KAFKA_CONFORMANCE'"
swift test "${scratch[@]}" --filter "$KAFKA_CONFORMANCE" || status=$?
echo "+ swift test ${scratch[*]} --filter ConformanceTests --skip '$KAFKA_CONFORMANCE'"
swift test "${scratch[@]}" --filter ConformanceTests --skip "$KAFKA_CONFORMANCE" || status=$?
echo "+ swift test ${scratch[*]} --filter 'InteropTests|TributaryNATSTests'"
swift test "${scratch[@]}" --filter 'InteropTests|TributaryNATSTests' || status=$?

# ThreadSanitizer run of the client tests that run real threads without a broker (the in-memory
# NATS client, the fake-broker Kafka clients, JetStream and the bridge over in-memory servers):
# Tools/tsan.sh builds them into .build-tsan and fails on any report. TSAN_SUITES=none skips it,
# which CI=true does not allow.
tsan_suites="${TSAN_SUITES:-TributaryNATSTests|TributaryKafkaTests|TributaryJetStreamTests|TributaryBridgeTests|TributaryTransportTests|TributaryTLSTests}"
echo
echo "== ThreadSanitizer: Tools/tsan.sh --filter '$tsan_suites' =="
if [[ "$tsan_suites" == none ]]; then
    [[ "${CI:-}" == true ]] && { echo "test.sh: error: TSAN_SUITES=none under CI=true: the ThreadSanitizer run is part of CI" >&2; exit 1; }
    say "ThreadSanitizer run skipped (TSAN_SUITES=none)"
elif ! TSAN_TEST_FAILURES=warn "$SCRIPT_DIR/tsan.sh" --filter "$tsan_suites"; then
    status=1
    echo "test.sh: THREADSANITIZER RUN FAILED (see above and .build-tsan/tsan.log)" >&2
fi

# Fuzz smoke run: every libFuzzer target in Tools/fuzz (the decoders of peer input) for
# FUZZ_SMOKE_SECONDS each (default 20; 0 skips it, which CI=true does not allow). A crash fails the run.
fuzz_seconds="${FUZZ_SMOKE_SECONDS:-20}"
echo
echo "== Fuzz smoke run: Tools/fuzz.sh all $fuzz_seconds =="
if [[ "$fuzz_seconds" == 0 ]]; then
    [[ "${CI:-}" == true ]] && { echo "test.sh: error: FUZZ_SMOKE_SECONDS=0 under CI=true: the fuzz smoke run is part of CI" >&2; exit 1; }
    say "fuzz smoke run skipped (FUZZ_SMOKE_SECONDS=0)"
elif ! "$SCRIPT_DIR/fuzz.sh" all "$fuzz_seconds"; then
    status=1
    echo "test.sh: FUZZ SMOKE RUN FAILED: a fuzz target crashed; the input is kept under .build/fuzz-artifacts/ (see above)" >&2
fi
exit "$status"
