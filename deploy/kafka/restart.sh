#!/usr/bin/env bash
# Restart a broker started by start.sh, keeping its data, ports and configuration (fault-injection
# tests: the broker goes away and comes back as it was, unlike start.sh which formats new storage).
#
#   restart.sh STATE_DIR [--kill] [--down SECONDS]
#
#   --kill          SIGKILL instead of a clean SIGTERM shutdown (a crash; the log is recovered on start)
#   --down SECONDS  stay down this long before starting again (default 0)
#
# The broker is started again with the exact command line it runs with now (read from /proc), its
# output appended to STATE_DIR/kafka.log. Waits until it answers a metadata request (as start.sh
# does), then prints `KAFKA_BROKERS=...` like start.sh. With KAFKA_PARENT_PID set, a new watchdog
# stops the broker once that process is gone (the old watchdog ends with the old broker).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
say() { printf 'restart.sh: %s\n' "$*" >&2; }
die() { printf 'restart.sh: %s\n' "$*" >&2; exit 1; }

STATE="${1:-}"
[[ -n "$STATE" && -d "$STATE" ]] || die "usage: restart.sh STATE_DIR [--kill] [--down SECONDS]"
[[ -f "$STATE/.dumpstream-kafka-state" ]] || die "$STATE is not a start.sh state dir"
shift
SIGNAL=TERM
DOWN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kill) SIGNAL=KILL ;;
    --down) DOWN="${2:?--down needs seconds}"; shift ;;
    *) die "unknown option $1" ;;
  esac
  shift
done

PID="$(cat "$STATE/broker.pid")"
BROKERS="$(cat "$STATE/brokers")"
alive() { kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }
alive "$PID" && grep -qa "kafka.Kafka" "/proc/$PID/cmdline" || die "no broker of $STATE is running (pid $PID)"

# The command line, NUL-separated, exactly as it runs now.
mapfile -d '' CMD <"/proc/$PID/cmdline"
[[ "${#CMD[@]}" -gt 2 ]] || die "could not read the broker's command line"

kill "-$SIGNAL" "$PID"
deadline=$(( $(date +%s) + ${KAFKA_STOP_TIMEOUT:-20} ))
while alive "$PID" && (( $(date +%s) < deadline )); do sleep 0.1; done
if alive "$PID"; then
  say "broker $PID still up after SIGTERM, sending SIGKILL"
  kill -KILL "$PID" 2>/dev/null || true
  while alive "$PID"; do sleep 0.1; done
fi
say "broker $PID stopped (SIG$SIGNAL)"
[[ "$DOWN" == 0 ]] || sleep "$DOWN"

# The client port may be taken by someone else meanwhile; nothing to do then but fail loudly.
printf -- '--- restart %s ---\n' "$(date -Is)" >>"$STATE/kafka.log"
nohup "${CMD[@]}" >>"$STATE/kafka.log" 2>&1 </dev/null &
NEW=$!
echo "$NEW" >"$STATE/broker.pid"

set +e
node -e '
  const net = require("net");
  const [brokers, pid, timeoutS, root] = process.argv.slice(1);
  const [host, port] = [brokers.split(":")[0], Number(brokers.split(":")[1])];
  const deadline = Date.now() + Number(timeoutS) * 1000;
  let kafkajs = null;
  try { kafkajs = require(require.resolve("kafkajs", { paths: [root, process.cwd()] })); } catch {}
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const alive = () => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
  const tcp = () => new Promise((res) => {
    const s = net.connect({ host, port }); s.setTimeout(1000);
    const done = (ok) => { s.destroy(); res(ok); };
    s.once("connect", () => done(true)); s.once("error", () => done(false)); s.once("timeout", () => done(false));
  });
  const metadata = async () => {
    if (!kafkajs) return true;
    const admin = new kafkajs.Kafka({ clientId: "dumpstream-ready", brokers: [brokers],
      logLevel: kafkajs.logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 3000,
      retry: { retries: 0 } }).admin();
    try { await admin.connect(); const c = await admin.describeCluster(); return c.brokers.length > 0; }
    catch { return false; } finally { await admin.disconnect().catch(() => {}); }
  };
  (async () => {
    while (Date.now() < deadline) {
      if (!alive()) process.exit(3);
      if ((await tcp()) && (await metadata())) process.exit(0);
      await sleep(200);
    }
    process.exit(4);
  })();
' "$BROKERS" "$NEW" "${KAFKA_START_TIMEOUT:-60}" "$REPO_ROOT"
rc=$?
set -e
case $rc in
  0) ;;
  3) tail -n 20 "$STATE/kafka.log" >&2; die "the broker exited while starting again" ;;
  *) tail -n 20 "$STATE/kafka.log" >&2; die "the broker did not answer on $BROKERS after the restart" ;;
esac

if [[ -n "${KAFKA_PARENT_PID:-}" ]]; then
  (
    trap '' HUP INT
    while kill -0 "$KAFKA_PARENT_PID" 2>/dev/null && kill -0 "$NEW" 2>/dev/null; do sleep 2; done
    if kill -0 "$NEW" 2>/dev/null; then "$HERE/stop.sh" "$STATE"; fi
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$STATE/watchdog.pid"
fi

say "broker up again on $BROKERS, pid $NEW"
printf 'KAFKA_BROKERS=%s\n' "$BROKERS"
