#!/usr/bin/env bash
# Tools/demo.sh — the demo: Tributary's tools and clients against a real nats-server and a
# real Kafka-protocol broker (tansu).
#
#   Tools/demo.sh
#
# Installs and starts the brokers (Tools/brokers.sh), builds the tools and examples in release
# mode, then runs NATS publish/subscribe, request/reply, the NATS quick start and a short
# benchmark, and for Kafka: cluster metadata, keyed records with headers produced and read
# back with kafka-cat, the Kafka quick start, the order-pipeline example and a short producer
# benchmark — echoing every command before it runs. Brokers and background tools started here
# are stopped on exit (by PID).
#
# Environment: NATS_URL, KAFKA_BROKERS (use that broker instead of starting one),
#              SWIFT_SCRATCH_PATH (passed to swift as --scratch-path).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
BROKERS="$SCRIPT_DIR/brokers.sh"
cd "$REPO_ROOT"

# Products the demo runs.
DEMO_PRODUCTS=(nats-pub nats-sub nats-req nats-reply nats-quickstart nats-bench
    kafka-cat kafka-quickstart order-pipeline kafka-bench bridge-example tributary-bridge)
# Broker kinds of Tools/brokers.sh the demo needs.
DEMO_BROKERS=(nats kafka)
WAIT_SECONDS=10

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tributary-demo.XXXXXX")"
BACKGROUND_PIDS=()
STARTED_BROKERS=()

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

# Echo (with STDIN as a here-document), then run in the foreground reading STDIN.
run_with_input() { # stdin command...
    local input="$1"
    shift
    printf "\n\$ %s <<'EOF'\n%s\nEOF\n" "$(quote "$@")" "$input"
    "$@" <<<"$input"
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
    if ((${#STARTED_BROKERS[@]} > 0)); then
        "$BROKERS" stop "${STARTED_BROKERS[@]}" || true
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
    # Stop on exit only what was not running before.
    local kind status
    status="$("$BROKERS" status 2>/dev/null || true)"
    for kind in "${DEMO_BROKERS[@]}"; do
        grep -Eq "^$kind: (running|external)" <<<"$status" || STARTED_BROKERS+=("$kind")
    done
    "$BROKERS" start "${DEMO_BROKERS[@]}"
    # shellcheck disable=SC1091
    . "$REPO_ROOT/.brokers/env"
    local version
    version="$("$NATS_SERVER_BIN" --version 2>&1)"
    echo "nats-server ${version#nats-server: } at $(sed -E 's#(://)[^@/,]*@#\1***@#g' <<<"$NATS_URL")"
    version="$("$TANSU_BIN" --version 2>&1)"
    echo "Kafka broker at $KAFKA_BROKERS (${version}, in memory)"
    # tansu's CLI creates the topic kafka-cat writes to (kcat has no create command either).
    PATH="$(dirname "$TANSU_BIN"):$PATH"
    export PATH

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
    echo "tools in $bin; they connect to \$NATS_URL and \$KAFKA_BROKERS"
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

demo_kafka() {
    section "Kafka: a topic and the cluster's metadata (kafka-cat -L)"
    local topic="demo-orders-$$"
    run tansu topic create "$topic" --partitions 3 --broker "tcp://$KAFKA_BROKERS"
    run kafka-cat -L

    section "Kafka: keyed records with headers, produced and read back (kafka-cat)"
    run_with_input $'order-1001:{"status":"created"}\norder-1002:{"status":"created"}\norder-1003:{"status":"created"}\norder-1001:{"status":"paid"}\norder-1001:{"status":"shipped"}' \
        kafka-cat -P -t "$topic" -K : -H source=demo -H trace=7f3a
    # One key, one partition: order-1001's events come back in the order they were written.
    run kafka-cat -C -t "$topic" -e -o beginning -f 'partition %p offset %o  %k  %s  headers: %h\n'
    run tansu topic delete "$topic" --broker "tcp://$KAFKA_BROKERS"

    section "Kafka: the library (Examples/KafkaQuickStart, the README's quick start)"
    run kafka-quickstart

    section "Kafka: consumer groups (Examples/OrderPipeline: inventory → payment → shipping, DLQ)"
    run order-pipeline

    section "Kafka: a short benchmark (kafka-bench, 200k × 100 B)"
    run kafka-bench produce --msgs 200000 --partitions 3
}

demo_bridge() {
    section "Bridge: a NATS service, its events in Kafka, Kafka commands back on NATS (Examples/Bridge)"
    run bridge-example

    section "Bridge: the service's plan for a configuration file (tributary-bridge --check)"
    local config
    config="$(mktemp)"
    cat > "$config" <<JSON
{"nats": {"url": "$NATS_URL"}, "kafka": {"bootstrap.servers": "$KAFKA_BROKERS"},
 "routes": [
   {"name": "events", "from": {"nats": "events.>"}, "to": {"kafka": "events"}, "key": {"subject_token": 3}},
   {"name": "commands", "from": {"kafka": ["commands"], "group": "bridge"}, "to": {"nats": "commands.{key}"}}]}
JSON
    run tributary-bridge --check "$config"
    rm -f "$config"
}

main() {
    setup
    demo_nats
    demo_nats_library
    demo_kafka
    demo_bridge
    section "Done"
}

main "$@"
