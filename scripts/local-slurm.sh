#!/usr/bin/env bash
# A private one-node Slurm cluster on this machine, for testing `seqlab sweep --slurm`.
#
#   scripts/local-slurm.sh start    start munged, slurmctld and slurmd (prints SLURM_CONF)
#   scripts/local-slurm.sh stop     cancel its jobs, stop the three daemons it started
#   scripts/local-slurm.sh status   say whether it runs and what the node is doing
#
# It installs nothing: it needs Debian's slurmctld, slurmd, slurm-client and munge
# (`apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge`; .ci/run
# does that). It must run as root (SlurmUser=root). There is no systemd here, so each
# daemon runs in the foreground (munged -F, slurmctld -D, slurmd -D) in its own session,
# its output in a log file, and its PID recorded; `stop` ends only those PIDs.
#
# Everything (config, munge key and socket, state, spool, logs) is under $SEQLAB_SLURM_DIR
# (default /tmp/seqlab-slurm). Client commands need SLURM_CONF=$SEQLAB_SLURM_DIR/slurm.conf
# (without it sbatch tries "configless" mode and fails with a DNS SRV error); `start`
# prints the export line. Ports: the first free pair from 6817/6818 upwards, so another
# cluster on the machine is never talked to by mistake.
set -euo pipefail

DIR="${SEQLAB_SLURM_DIR:-/tmp/seqlab-slurm}"
CONF="$DIR/slurm.conf"
PIDS="$DIR/pids"
export SLURM_CONF="$CONF"

die() { echo "local-slurm: $*" >&2; exit 1; }

# true when PID runs the program NAME (PIDs are reused) and is not a zombie
alive() {
    local pid=$1 name=$2 state
    [ -r "/proc/$pid/comm" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
    state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() {
    [ -f "$PIDS" ] || return 1
    local name pid
    while read -r name pid; do
        alive "$pid" "$name" || return 1
    done <"$PIDS"
}

start() {
    [ "$(id -u)" = 0 ] || die "run it as root (the private cluster uses SlurmUser=root)"
    for cmd in munged mungekey slurmctld slurmd sbatch squeue scontrol; do
        command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] ||
            die "$cmd is missing: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge"
    done
    export PATH="$PATH:/usr/sbin:/sbin"
    if running; then
        echo "local-slurm: already running ($DIR)"
        echo "export SLURM_CONF=$CONF"
        return 0
    fi
    stop_daemons quiet
    rm -rf "$DIR"
    mkdir -p "$DIR"/{munge,state,spool,log}
    # munged refuses a socket unless every directory above it is world-executable
    chmod 755 "$DIR" "$DIR/munge"
    mungekey --create --keyfile="$DIR/munge/munge.key" >/dev/null 2>&1 ||
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chmod 600 "$DIR/munge/munge.key"

    local host cpus mem_kb mem_mb p1 p2
    host=$(hostname -s)
    cpus=$(nproc)
    mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    mem_mb=$((mem_kb * 9 / 10 / 1024)) # more than the real memory drains the node
    p1=6817
    while ! port_free "$p1" || ! port_free $((p1 + 1)); do
        p1=$((p1 + 2))
        [ "$p1" -lt 6900 ] || die "no free pair of ports between 6817 and 6900"
    done
    p2=$((p1 + 1))

    cat >"$CONF" <<EOF
# written by scripts/local-slurm.sh: a private one-node cluster
ClusterName=seqlab
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=$p1
SlurmdPort=$p2
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
# not the cgroup plugins: with them every step fails here while the job says COMPLETED
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
# no accounting database: one line per finished task here instead
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
SchedulerParameters=batch_sched_delay=0
MinJobAge=3600
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

    : >"$PIDS"
    setsid munged -F --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
        --pid-file="$DIR/munge/munged.pid" --seed-file="$DIR/munge/munge.seed" \
        --log-file="$DIR/log/munged.log" </dev/null >"$DIR/log/munged.out" 2>&1 &
    echo "munged $!" >>"$PIDS"
    for _ in $(seq 100); do
        [ -S "$DIR/munge/munge.socket" ] && break
        sleep 0.05
    done
    [ -S "$DIR/munge/munge.socket" ] || die "munged did not start: $(tail -3 "$DIR/log/munged.out")"
    setsid slurmctld -D -f "$CONF" </dev/null >"$DIR/log/slurmctld.out" 2>&1 &
    echo "slurmctld $!" >>"$PIDS"
    setsid slurmd -D -N "$host" -f "$CONF" </dev/null >"$DIR/log/slurmd.out" 2>&1 &
    echo "slurmd $!" >>"$PIDS"

    # ready when the node takes jobs
    local state=""
    for _ in $(seq 300); do
        state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -1 || true)
        case "$state" in idle | mixed | allocated) break ;; esac
        if ! running; then break; fi
        sleep 0.1
    done
    case "$state" in
    idle | mixed | allocated) ;;
    *)
        echo "local-slurm: the node did not come up (state: ${state:-none}); logs in $DIR/log:" >&2
        tail -5 "$DIR"/log/*.out >&2 || true
        stop_daemons quiet
        exit 1
        ;;
    esac
    echo "local-slurm: running in $DIR (node $host, $cpus CPUs, ports $p1/$p2)"
    echo "export SLURM_CONF=$CONF"
}

stop_daemons() {
    [ -f "$PIDS" ] || return 0
    # cancel jobs first, or their processes are orphaned when slurmd stops
    if [ -f "$CONF" ] && command -v squeue >/dev/null; then
        local jobs
        jobs=$(timeout 5 squeue -h -o %i 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            # shellcheck disable=SC2086
            timeout 5 scancel $jobs 2>/dev/null || true
            sleep 0.5
        fi
    fi
    local name pid
    # slurmd, then slurmctld, then munged
    tac "$PIDS" | while read -r name pid; do
        alive "$pid" "$name" && kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 50); do
        local any=0
        while read -r name pid; do
            if alive "$pid" "$name"; then any=1; fi
        done <"$PIDS"
        [ "$any" = 0 ] && break
        sleep 0.1
    done
    while read -r name pid; do
        alive "$pid" "$name" && kill -KILL "$pid" 2>/dev/null || true
    done <"$PIDS"
    rm -f "$PIDS"
    [ "${1:-}" = quiet ] || echo "local-slurm: stopped"
}

status() {
    if running; then
        echo "local-slurm: running in $DIR"
        sed 's/^/  /' "$PIDS"
        sinfo -h -o '  node %n: %T, %c CPUs' 2>/dev/null || true
        echo "export SLURM_CONF=$CONF"
    else
        echo "local-slurm: not running"
        return 1
    fi
}

case "${1:-}" in
start) start ;;
stop) stop_daemons ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
