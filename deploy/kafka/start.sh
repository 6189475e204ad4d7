#!/usr/bin/env bash
# Start ONE local Kafka node (KRaft, process.roles=broker,controller) on loopback, for tests.
# No Docker: runs `java -cp 'libs/*' kafka.Kafka server.properties` from the jars that
# fetch.sh puts in the cache (it is called first; a no-op once cached).
#
# Environment (all optional):
#   KAFKA_VERSION          4.4.0 (default) or e.g. 3.9.2
#   KAFKA_PORT             client (PLAINTEXT) port; default: a free port
#   KAFKA_CONTROLLER_PORT  KRaft controller port; default: a free port
#   KAFKA_STATE_DIR        state dir (config, data, log, pid); default: a new mktemp dir
#   KAFKA_HEAP_OPTS        default "-Xms64m -Xmx512m"
#   KAFKA_JVM_PERF_OPTS    default "-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1"
#   KAFKA_JVM_OPTS         extra JVM options for the broker
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 60)
#   KAFKA_PARENT_PID       if set, a watchdog stops the broker once that process is gone
#   KAFKA_KEEP_STATE=1     on a failed start, keep the state dir (log) instead of deleting it
#   DUMPSTREAM_CACHE       cache root for the jars (see fetch.sh)
#
# On success prints exactly two lines on stdout (eval-able):
#   KAFKA_BROKERS=127.0.0.1:<port>
#   KAFKA_STATE_DIR=<dir>
# and leaves in <dir>: broker.pid, brokers (the bootstrap address), kafka.log, server.properties.
# Progress and errors go to stderr; on failure the broker is killed, the last lines of its
# log are printed on stderr and the exit status is non-zero. Stop with stop.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
export KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
T0=$(date +%s%N)

say() { printf 'start.sh: %s\n' "$*" >&2; }
die() { printf 'start.sh: %s\n' "$*" >&2; exit 1; }
elapsed() { echo "$(( ($(date +%s%N) - T0) / 1000000 ))ms"; }

command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka needs a JDK 17+; on Debian: apt-get install -y openjdk-17-jdk-headless)"
command -v node >/dev/null 2>&1 || die "node not found on PATH (used to pick ports and probe the broker)"

LIBS="$("$HERE/fetch.sh")" || die "fetching Kafka $KAFKA_VERSION failed (see above)"
LOGGING="$(sed -n 's/^logging=//p' "$LIBS/.complete")"

# --- ports and cluster id (node: no python/nc assumed) ---------------------------------
read -r PORT CPORT CLUSTER_ID < <(node -e '
  const net = require("net"), crypto = require("crypto");
  const want = [process.argv[1], process.argv[2]].map((p) => Number(p) || 0);
  const open = (p) => new Promise((res, rej) => { const s = net.createServer(); s.once("error", rej);
    s.listen(p, "127.0.0.1", () => res(s)); });
  (async () => {
    const servers = [];
    for (const p of want) servers.push(await open(p).catch((e) => { console.error("port " + p + ": " + e.code); process.exit(2); }));
    const ports = servers.map((s) => s.address().port);
    servers.forEach((s) => s.close());
    let id; do { id = crypto.randomBytes(16).toString("base64url"); } while (id.startsWith("-"));
    console.log(ports.join(" ") + " " + id);
  })();
' "${KAFKA_PORT:-0}" "${KAFKA_CONTROLLER_PORT:-0}") || die "could not get free loopback ports (KAFKA_PORT=${KAFKA_PORT:-} in use?)"
[[ -n "${CLUSTER_ID:-}" ]] || die "could not get free loopback ports (KAFKA_PORT=${KAFKA_PORT:-} in use?)"
BROKERS="127.0.0.1:$PORT"

if [[ -n "${KAFKA_STATE_DIR:-}" ]]; then
  STATE="$KAFKA_STATE_DIR"
  mkdir -p "$STATE"
  if [[ -f "$STATE/broker.pid" ]] && kill -0 "$(cat "$STATE/broker.pid")" 2>/dev/null; then
    die "a broker is already running from $STATE (pid $(cat "$STATE/broker.pid")); run stop.sh $STATE first"
  fi
  rm -rf "$STATE/data"
else
  STATE="$(mktemp -d "${TMPDIR:-/tmp}/dumpstream-kafka.XXXXXX")"
fi
: >"$STATE/.dumpstream-kafka-state"   # marks the dir as ours: stop.sh only deletes such dirs
LOG="$STATE/kafka.log"
: >"$LOG"

# --- config -----------------------------------------------------------------------------
cat >"$STATE/server.properties" <<PROPS
# one combined KRaft node for tests (written by deploy/kafka/start.sh)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$STATE/data

# topics are created explicitly by the tests
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1

# internal topics: one replica, min ISR 1, few partitions (fast to create)
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1

# consumer groups: no initial rebalance delay; allow short session timeouts in tests
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000

# small, fast log segments; deletions happen quickly
log.segment.bytes=134217728
log.retention.check.interval.ms=5000
log.segment.delete.delay.ms=1000
file.delete.delay.ms=1000
log.cleaner.dedupe.buffer.size=8388608
log.cleaner.threads=1

# a small node on a small machine
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=4
broker.heartbeat.interval.ms=500
PROPS

if [[ "$LOGGING" == reload4j ]]; then
  cat >"$STATE/log4j.properties" <<'L4J'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.server.ControllerServer=INFO
log4j.logger.kafka.Kafka$=INFO
L4J
  LOG_OPTS=("-Dlog4j.configuration=file:$STATE/log4j.properties")
else
  cat >"$STATE/log4j2.properties" <<'L4J2'
status = warn
# keep logging through Kafka's own shutdown (log4j2 would stop at JVM shutdown)
shutdownHook = disable
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.raftserver.name = kafka.server.KafkaRaftServer
logger.raftserver.level = INFO
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
logger.controller.name = kafka.server.ControllerServer
logger.controller.level = INFO
L4J2
  LOG_OPTS=("-Dlog4j2.configurationFile=$STATE/log4j2.properties")
fi

# --- format storage ---------------------------------------------------------------------
# kafka.tools.StorageTool is the main class in both 3.9 and 4.x (kafka_2.13 jar).
if ! java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "${LOG_OPTS[@]}" -cp "$LIBS/*" \
      kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$STATE/server.properties" >>"$LOG" 2>&1 </dev/null; then
  tail -n 20 "$LOG" >&2
  [[ "${KAFKA_KEEP_STATE:-}" == 1 ]] || rm -rf "$STATE"
  die "formatting KRaft storage failed (Kafka $KAFKA_VERSION)"
fi
say "formatted $STATE/data ($(elapsed))"

# --- start the broker in the background -------------------------------------------------
# C1 only (TieredStopAtLevel=1): ~1s faster start and fewer compiler threads fighting the
# test runner for the 2 cores; plenty fast for test traffic.
# shellcheck disable=SC2086
nohup java ${KAFKA_HEAP_OPTS:--Xms64m -Xmx512m} \
  ${KAFKA_JVM_PERF_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1} \
  -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true ${KAFKA_JVM_OPTS:-} \
  "${LOG_OPTS[@]}" -cp "$LIBS/*" kafka.Kafka "$STATE/server.properties" >>"$LOG" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$STATE/broker.pid"
echo "$BROKERS" >"$STATE/brokers"
echo "$STATE" >"${TMPDIR:-/tmp}/dumpstream-kafka.last"

fail() {
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2>/dev/null || true
  printf -- '--- last lines of %s (stack frames left out) ---\n' "$LOG" >&2
  grep -vE '^[[:space:]]+(at |\.\.\. [0-9]+ more)' "$LOG" | tail -n 20 >&2 || true
  printf -- '---\n' >&2
  if [[ "${KAFKA_KEEP_STATE:-}" != 1 ]]; then
    rm -rf "$STATE"
    rm -f "${TMPDIR:-/tmp}/dumpstream-kafka.last"
  fi
  die "$*"
}
trap 'fail "interrupted"' INT TERM

# --- wait until it answers: TCP connect, then a metadata request (kafkajs) --------------
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
' "$BROKERS" "$PID" "$TIMEOUT" "$REPO_ROOT"
rc=$?
set -e
case $rc in
  0) ;;
  3) fail "the Kafka $KAFKA_VERSION broker exited during startup" ;;
  4) fail "the Kafka $KAFKA_VERSION broker did not answer on $BROKERS within ${TIMEOUT}s" ;;
  *) fail "waiting for the broker failed (node exit $rc)" ;;
esac
trap - INT TERM

# --- optional watchdog: stop the broker when the owning process goes away ---------------
if [[ -n "${KAFKA_PARENT_PID:-}" ]]; then
  (
    trap '' HUP INT
    while kill -0 "$KAFKA_PARENT_PID" 2>/dev/null && kill -0 "$PID" 2>/dev/null; do sleep 2; done
    if kill -0 "$PID" 2>/dev/null; then "$HERE/stop.sh" "$STATE"; fi
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$STATE/watchdog.pid"
fi

say "Kafka $KAFKA_VERSION up on $BROKERS, pid $PID, state $STATE ($(elapsed))"
printf 'KAFKA_BROKERS=%s\nKAFKA_STATE_DIR=%s\n' "$BROKERS" "$STATE"
