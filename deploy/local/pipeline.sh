#!/usr/bin/env bash
# Try the distributed pipeline on this machine with one command (`npm run pipeline`): a Kafka
# broker from its jars (deploy/kafka/start.sh), a Redis (the one on REDIS_URL, default
# 127.0.0.1:6379; else a redis-server of its own on a free port), and ingest, parse and detect as
# plain processes. Prints where to upload and how to watch, then waits; Ctrl-C (or SIGTERM) stops
# the services gracefully, then the broker and the Redis it started, and removes their state.
#
# Environment (all optional): INGEST_LISTEN (default 127.0.0.1:8080), PARSE_HEALTH (default
# 127.0.0.1:9464), DETECT_HEALTH (default 127.0.0.1:9465), REDIS_URL, KAFKA_BROKERS (a broker you
# already run: none is started), PIPELINE_DIR (logs; default a new temp dir, kept after the stop),
# and anything `dumpstream ingest --help` lists.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
say() { printf 'pipeline: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

BIN="$ROOT/packages/cli/bin/dumpstream.js"
[[ -f "$ROOT/packages/cli/dist/main.js" ]] || die "not built: run npm ci (or npm run build) in $ROOT first"
command -v node >/dev/null || die "node not found on PATH"

DIR="${PIPELINE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/dumpstream-pipeline.XXXXXX")}"
mkdir -p "$DIR"
export INGEST_LISTEN="${INGEST_LISTEN:-127.0.0.1:8080}"
PARSE_HEALTH="${PARSE_HEALTH:-127.0.0.1:9464}"
DETECT_HEALTH="${DETECT_HEALTH:-127.0.0.1:9465}"

SERVICE_PIDS=()
KAFKA_STATE=""
REDIS_PID=""
stopping=0
cleanup() {
  ((stopping)) && return
  stopping=1
  trap '' INT TERM
  if ((${#SERVICE_PIDS[@]})); then
    say "stopping ingest, parse, detect"
    kill -TERM "${SERVICE_PIDS[@]}" 2>/dev/null || true
    # Graceful: ingest finishes its uploads, parse and detect leave their groups.
    for _ in $(seq 1 200); do
      alive=0
      for p in "${SERVICE_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.1
    done
    kill -KILL "${SERVICE_PIDS[@]}" 2>/dev/null || true
  fi
  if [[ -n "$KAFKA_STATE" ]]; then "$ROOT/deploy/kafka/stop.sh" "$KAFKA_STATE" 2>/dev/null || true; fi
  if [[ -n "$REDIS_PID" ]]; then kill -TERM "$REDIS_PID" 2>/dev/null || true; fi
  say "stopped; logs are in $DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Kafka ------------------------------------------------------------------------------------
if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  say "starting a Kafka broker (deploy/kafka/start.sh; the first run fetches its jars)"
  # The watchdog stops the broker if this script is killed without its cleanup.
  out="$(KAFKA_PARENT_PID=$$ "$ROOT/deploy/kafka/start.sh")" || die "the Kafka broker did not start (see above)"
  eval "$out"
  KAFKA_STATE="$KAFKA_STATE_DIR"
  # A new broker has no reports yet: Redis keys of an earlier run would call its uploads
  # duplicates of reports that are gone with the old broker. So keys of this run's own.
  export REDIS_KEY_PREFIX="${REDIS_KEY_PREFIX:-ds$(date +%s)}"
fi
export KAFKA_BROKERS

# --- Redis ------------------------------------------------------------------------------------
answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
if [[ -z "${REDIS_URL:-}" ]]; then
  if answers 127.0.0.1 6379; then
    REDIS_URL=redis://127.0.0.1:6379
  else
    command -v redis-server >/dev/null || die "no Redis on 127.0.0.1:6379 and no redis-server to start (Debian: apt-get install -y redis-server), or set REDIS_URL"
    port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$DIR/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 1 50); do answers 127.0.0.1 "$port" && break; sleep 0.1; done
    answers 127.0.0.1 "$port" || die "redis-server did not start (see $DIR/redis.log)"
    REDIS_URL="redis://127.0.0.1:$port"
  fi
fi
export REDIS_URL

# --- the services -----------------------------------------------------------------------------
# Started with node itself, not npx: the pid kept is the service's, so a signal reaches it.
start_service() { # name, then variables for it
  local name="$1"
  shift
  env "$@" node "$BIN" "$name" 2>"$DIR/$name.log" &
  SERVICE_PIDS+=($!)
}
start_service parse HEALTH_LISTEN="$PARSE_HEALTH"
start_service detect HEALTH_LISTEN="$DETECT_HEALTH"
start_service ingest # health and metrics on its API port

ready() { # host:port → 0 when /readyz answers 200
  node -e 'require("http").get("http://"+process.argv[1]+"/readyz",r=>process.exit(r.statusCode===200?0:1)).on("error",()=>process.exit(1))' "$1"
}
for name_at in "parse $PARSE_HEALTH" "detect $DETECT_HEALTH" "ingest $INGEST_LISTEN"; do
  read -r name at <<<"$name_at"
  for _ in $(seq 1 300); do
    ready "$at" && break
    for p in "${SERVICE_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { tail -n 5 "$DIR"/*.log >&2; die "a service exited at start (logs above, and in $DIR)"; }; done
    sleep 0.2
  done
  ready "$at" || die "$name not ready after 60 s (log: $DIR/$name.log)"
done

URL="http://$INGEST_LISTEN"
cat >&2 <<EOF
pipeline: ready. ingest $URL, parse and detect health on $PARSE_HEALTH and $DETECT_HEALTH
pipeline: KAFKA_BROKERS=$KAFKA_BROKERS REDIS_URL=$REDIS_URL REDIS_KEY_PREFIX=${REDIS_KEY_PREFIX:-ds}; service logs in $DIR
pipeline: in another terminal:
  npx dumpstream submit --url $URL FILE...
  KAFKA_BROKERS=$KAFKA_BROKERS npx dumpstream watch reports
pipeline: Ctrl-C stops everything
EOF

# Waits until a signal, or until a service dies (then everything stops: it would not heal).
set +e
wait -n "${SERVICE_PIDS[@]}"
rc=$?
((stopping)) || say "a service exited (status $rc): stopping the rest; see $DIR"
exit 1
