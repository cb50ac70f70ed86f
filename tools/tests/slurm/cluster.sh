#!/usr/bin/env bash
# A one-node Slurm cluster (Debian's slurm-wlm 22.05 + munge) living entirely in
# DIR, for tests of job arrays: its own munge key and socket, its own slurm.conf
# (SLURM_CONF=DIR/slurm.conf for the client commands), state and logs. Run as root.
#   cluster.sh start DIR   # returns once the node is idle
#   cluster.sh stop DIR    # stops the daemons it started (by their pid files)
# Facts behind the settings: ../shared/notes/slurm-single-node.md (no cgroup.conf,
# proctrack/linuxproc, task/none).
set -euo pipefail
cmd="$1"; d="$(realpath -m "$2")"
case "$cmd" in
start)
  mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log"
  chown munge:munge "$d/munge"; chmod 700 "$d/munge"
  dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
  chown munge:munge "$d/munge/munge.key"; chmod 400 "$d/munge/munge.key"
  runuser -u munge -- munged --force \
    --key-file="$d/munge/munge.key" --socket="$d/munge/munge.socket" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/munge/munged.log" --seed-file="$d/munge/munged.seed"
  chmod 755 "$d/munge"
  host="$(hostname -s)"
  cat > "$d/slurm.conf" <<CONF
ClusterName=foxtrottest
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$d/slurm.conf"
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  for _ in $(seq 1 60); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then exit 0; fi
    sleep 0.5
  done
  echo "the node did not become idle in 30 s; logs in $d/log" >&2
  sinfo >&2 || true
  exit 1
  ;;
stop)
  for p in "$d/slurmd.pid" "$d/slurmctld.pid" "$d/munge/munged.pid"; do
    [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
  done
  ;;
*) echo "usage: cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
