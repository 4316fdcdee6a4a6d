#!/usr/bin/env bash
# A real Slurm on this one host, for the tests: munged, slurmctld and two slurmd nodes (n1, n2,
# one CPU each), no systemd and no cgroups. State, logs and the config live in $SLURM_LOCAL_DIR
# (default /tmp/pespectra-slurm); every daemon is stopped by its PID.
#
#   scripts/slurm/local-cluster.sh start   # installs slurm-wlm + munge when missing (root), starts
#   scripts/slurm/local-cluster.sh env     # prints `export SLURM_CONF=…` for the shell
#   scripts/slurm/local-cluster.sh stop
#
# Exit 3 from `start` means Slurm cannot be had here (not root and not installed, or the package
# install failed): callers skip with that reason.
set -euo pipefail

dir="${SLURM_LOCAL_DIR:-/tmp/pespectra-slurm}"
conf="$dir/slurm.conf"
host="$(hostname -s)"

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "local-cluster: slurm-wlm and munge are not installed and this is not root" >&2
    exit 3
  fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; } || {
    echo "local-cluster: apt-get install slurm-wlm munge failed" >&2
    exit 3
  }
}

start_munge() {
  mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key >/dev/null 2>&1 \
    || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
  chmod 0700 /etc/munge
  chmod 0400 /etc/munge/munge.key
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  munge -n | unmunge >/dev/null || { echo "local-cluster: munged did not start" >&2; exit 1; }
  pgrep -x munged > "$dir/munged.pid" || true
}

write_conf() {
  rm -rf "$dir"/state "$dir"/spool   # a fresh controller: no jobs of an earlier run
  mkdir -p "$dir"/{state,spool,log,run,jobcomp}
  local mem; mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 4 ))
  cat > "$conf" <<EOF
ClusterName=pespectra-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp/jobs.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1
MinJobAge=300
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=16818 CPUs=1 RealMemory=$mem State=UNKNOWN
NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=16819 CPUs=1 RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
EOF
}

case "${1:-}" in
  start)
    install
    mkdir -p "$dir"
    start_munge
    write_conf
    export SLURM_CONF="$conf"
    slurmctld -f "$conf"
    slurmd -f "$conf" -N n1
    slurmd -f "$conf" -N n2
    for _ in $(seq 120); do
      idle=$(sinfo -h -N -o '%N %t' 2>/dev/null | awk '$2 == "idle"' | wc -l)
      [ "$idle" -ge 2 ] && break
      sleep 0.5
    done
    if [ "${idle:-0}" -lt 2 ]; then
      echo "local-cluster: nodes did not come up:" >&2
      sinfo -N >&2 || true
      tail -n 20 "$dir"/log/*.log >&2 || true
      exit 1
    fi
    echo "local-cluster: up (SLURM_CONF=$conf, nodes n1 n2)"
    ;;
  env)
    echo "export SLURM_CONF=$conf"
    ;;
  stop)
    for f in "$dir"/run/slurmd-*.pid "$dir"/run/slurmctld.pid; do
      [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
    sleep 1
    for f in "$dir"/run/slurmd-*.pid "$dir"/run/slurmctld.pid; do
      [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
      rm -f "$f"
    done
    if [ -f "$dir/munged.pid" ]; then
      kill "$(cat "$dir/munged.pid")" 2>/dev/null || true
      rm -f "$dir/munged.pid"
    fi
    echo "local-cluster: stopped"
    ;;
  *)
    echo "usage: $0 start|env|stop" >&2
    exit 2
    ;;
esac
