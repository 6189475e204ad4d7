#!/usr/bin/env bash
# Stop a broker started by start.sh and delete its state dir (config, data, log).
#
#   stop.sh [STATE_DIR]
# STATE_DIR defaults to $KAFKA_STATE_DIR, else the last dir start.sh started from
# (recorded in ${TMPDIR:-/tmp}/dumpstream-kafka.last).
# SIGTERM first (Kafka shuts down cleanly), SIGKILL after KAFKA_STOP_TIMEOUT seconds (default 20).
# Stopping an already-stopped broker is not an error.
set -euo pipefail

POINTER="${TMPDIR:-/tmp}/dumpstream-kafka.last"
STATE="${1:-${KAFKA_STATE_DIR:-}}"
if [[ -z "$STATE" && -f "$POINTER" ]]; then STATE="$(cat "$POINTER")"; fi
[[ -n "$STATE" ]] || { echo "stop.sh: no state dir given and no broker recorded as started" >&2; exit 0; }
if [[ ! -d "$STATE" ]]; then echo "stop.sh: $STATE does not exist (already stopped?)" >&2; exit 0; fi
[[ -f "$STATE/.dumpstream-kafka-state" ]] || { echo "stop.sh: $STATE is not a start.sh state dir; not touching it" >&2; exit 1; }
TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"

# alive: the process exists and is not a zombie waiting to be reaped
alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$st" != Z ]]
}

# the watchdog (if any) first, unless it is the one running us
if [[ -f "$STATE/watchdog.pid" ]]; then
  W="$(cat "$STATE/watchdog.pid")"
  if [[ "$W" != "$PPID" ]]; then kill -TERM "$W" 2>/dev/null || true; fi
fi

if [[ -f "$STATE/broker.pid" ]]; then
  PID="$(cat "$STATE/broker.pid")"
  # only signal it if it still is our java process (pids get reused)
  if alive "$PID" && grep -qa "kafka.Kafka" "/proc/$PID/cmdline" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    deadline=$(( $(date +%s) + TIMEOUT ))
    while alive "$PID" && (( $(date +%s) < deadline )); do sleep 0.1; done
    if alive "$PID"; then
      echo "stop.sh: broker $PID still up after ${TIMEOUT}s, sending SIGKILL" >&2
      kill -KILL "$PID" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$PID" || break; sleep 0.1; done
    fi
  fi
fi

rm -rf "$STATE"
if [[ -f "$POINTER" && "$(cat "$POINTER" 2>/dev/null)" == "$STATE" ]]; then rm -f "$POINTER"; fi
echo "stop.sh: stopped, removed $STATE" >&2
