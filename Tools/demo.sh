#!/usr/bin/env bash
# Tools/demo.sh — the demo: Tributary's command-line tools against a real nats-server.
#
#   Tools/demo.sh
#
# Installs and starts the brokers (Tools/brokers.sh), builds the tools in release mode and
# runs publish/subscribe and request/reply, echoing every command before it runs. Brokers
# and background tools started here are stopped on exit (by PID).
#
# Environment: NATS_URL (use that server instead of starting one),
#              SWIFT_SCRATCH_PATH (passed to swift as --scratch-path).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
BROKERS="$SCRIPT_DIR/brokers.sh"
cd "$REPO_ROOT"

# Products the demo runs. Kafka part: add kafka-cat here.
DEMO_PRODUCTS=(nats-pub nats-sub nats-req nats-reply nats-quickstart nats-bench)
WAIT_SECONDS=10

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tributary-demo.XXXXXX")"
BACKGROUND_PIDS=()
started_here=0

say() { printf 'demo: %s\n' "$*" >&2; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }
section() { printf '\n==== %s ====\n' "$*"; }

# Command line as one would type it: plain words bare, others in single quotes.
quote() {
    local words=() word
    for word in "$@"; do
        if [[ "$word" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
            words+=("$word")
        else
            words+=("'${word//\'/\'\\\'\'}'")
        fi
    done
    printf '%s' "${words[*]}"
}

# Echo, then run in the foreground.
run() {
    printf '\n$ %s\n' "$(quote "$@")"
    "$@"
}

# Echo, then run in the background with output to FILE; sets LAST_PID.
run_background() { # file command...
    local file="$1"
    shift
    printf '\n$ %s > %s &\n' "$(quote "$@")" "${file#"$WORK"/}"
    "$@" >"$file" 2>&1 &
    LAST_PID=$!
    BACKGROUND_PIDS+=("$LAST_PID")
}

# Waits for a background PID to exit within WAIT_SECONDS; returns its exit status.
wait_for_exit() { # pid name output-file
    local pid="$1" name="$2" file="$3" i
    for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            local status=0
            wait "$pid" || status=$?
            return "$status"
        fi
        sleep 0.1
    done
    say "$name (pid $pid) did not finish within ${WAIT_SECONDS}s; its output so far:"
    cat "$file" >&2
    return 124
}

# Waits until some client holds a subscription on SUBJECT, using the monitoring endpoint
# of the server Tools/brokers.sh started. A server from the user's NATS_URL has no known
# monitoring port: then wait a second instead.
wait_for_subscription() { # subject
    if [[ -z "${NATS_MONITOR_URL:-}" ]]; then
        sleep 1
        return 0
    fi
    "$TRIBUTARY_PYTHON" - "$NATS_MONITOR_URL" "$1" "$WAIT_SECONDS" <<'EOF' ||
import json, sys, time, urllib.request
monitor, subject, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    with urllib.request.urlopen(monitor + "/connz?subs=1", timeout=2) as response:
        connz = json.load(response)
    for connection in connz.get("connections") or []:
        if subject in (connection.get("subscriptions_list") or []):
            sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
EOF
        die "no subscription on '$1' after ${WAIT_SECONDS}s"
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local status=$? pid
    for pid in "${BACKGROUND_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if ((started_here)); then
        "$BROKERS" stop || true
    fi
    if ((status == 0)); then
        rm -rf "$WORK"
    else
        say "failed (status $status); tool output kept in $WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setup() {
    section "Brokers"
    "$BROKERS" install
    "$BROKERS" status >/dev/null 2>&1 || started_here=1
    "$BROKERS" start
    # shellcheck disable=SC1091
    . "$REPO_ROOT/.brokers/env"
    local version
    version="$("$NATS_SERVER_BIN" --version 2>&1)"
    echo "nats-server ${version#nats-server: } at $(sed -E 's#(://)[^@/,]*@#\1***@#g' <<<"$NATS_URL")"

    section "Build (release)"
    local scratch=() product
    [[ -n "${SWIFT_SCRATCH_PATH:-}" ]] && scratch=(--scratch-path "$SWIFT_SCRATCH_PATH")
    for product in "${DEMO_PRODUCTS[@]}"; do
        run swift build -c release "${scratch[@]}" --product "$product"
    done
    local bin
    bin="$(swift build -c release "${scratch[@]}" --show-bin-path)"
    for product in "${DEMO_PRODUCTS[@]}"; do
        [[ -x "$bin/$product" ]] || die "$bin/$product was not built"
    done
    export PATH="$bin:$PATH"
    echo "tools in $bin; they connect to \$NATS_URL"
}

demo_nats() {
    section "NATS: publish and subscribe"
    local sub_out="$WORK/nats-sub.out" sub_pid
    run_background "$sub_out" nats-sub "demo.>" --count 3
    sub_pid=$LAST_PID
    wait_for_subscription "demo.>"

    run nats-pub demo.greeting "hello from Tributary"
    run nats-pub demo.orders '{"order":42,"item":"coffee"}' -H "Order-Source:demo"
    run nats-pub demo.weather "sunny"

    section "NATS: request and reply"
    local reply_out="$WORK/nats-reply.out" reply_pid
    run_background "$reply_out" nats-reply demo.time "it is $(date -u '+%H:%M:%S') UTC" --count 1
    reply_pid=$LAST_PID
    wait_for_subscription demo.time

    run nats-req demo.time "what time is it?" --timeout 2s

    section "nats-sub output (3 messages on demo.>)"
    local status=0
    wait_for_exit "$sub_pid" nats-sub "$sub_out" || status=$?
    cat "$sub_out"
    ((status == 0)) || die "nats-sub exited with status $status"

    section "nats-reply output"
    status=0
    wait_for_exit "$reply_pid" nats-reply "$reply_out" || status=$?
    cat "$reply_out"
    ((status == 0)) || die "nats-reply exited with status $status"
}

demo_nats_library() {
    section "NATS: the library (Examples/NATSQuickStart, the README's quick start)"
    run nats-quickstart

    section "NATS: a short benchmark (nats-bench, 200k × 16 B)"
    run nats-bench pub --msgs 200000 --size 16
    run nats-bench pubsub --msgs 200000 --size 16
    run nats-bench req --msgs 2000
}

# ---------------------------------------------------------------------------------------
# MARK: Kafka (to be added)
# Once Tools/brokers.sh has the kafka kind (tansu), `.brokers/env` also exports
# KAFKA_BROKERS. Then: add kafka-cat to DEMO_PRODUCTS, fill in demo_kafka (create a topic,
# produce keyed records with `kafka-cat -P`, consume them back with `kafka-cat -C -e`, show
# a consumer group), using run / run_background / wait_for_exit like demo_nats.
demo_kafka() {
    return 0
}
# ---------------------------------------------------------------------------------------

main() {
    setup
    demo_nats
    demo_nats_library
    demo_kafka
    section "Done"
}

main "$@"
