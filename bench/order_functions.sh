#!/usr/bin/env bash
# Writes bot/tpmbot.order: the functions of the tpmbot binary that run, in the order the linker
# should lay them out, so that the code a running bot touches sits in few pages (BENCHMARKS.md,
# "Function order"). Each function is recorded by callgrind (Debian's valgrind) while the
# binary, in four scenarios, runs against the fake Slack:
#   1. start, sign in, say hello over plain HTTP and WS, idle past the first ping;
#   2. the same over HTTPS and WSS;
#   3. slash commands, acks and posts, driven by load_bench on two channels;
#   4. the console transcripts of tests/data (every command, standups, the weekly status).
# A function is listed once, in the first scenario that ran it, so what an idle bot touches
# comes first and stays together; within a scenario the names are sorted, so that running the
# script again changes the file only where the code changed. Only functions defined in one of
# the binaries are kept.
#
# usage: bench/order_functions.sh [BUILD_DIR...]
# Each BUILD_DIR is a build with the tests and benchmarks (tests/fake_slack_server and
# bench/load_bench); the default is build-load (Release, -O3) and build (RelWithDebInfo, -O2,
# what deploy/ builds), whose inlining differs, so that the list fits both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -gt 0 ] || set -- "$root/build-load" "$root/build"
builds=()
for b in "$@"; do
  b="$(cd "$b" && pwd)"
  for f in "$b/bot/tpmbot" "$b/tests/fake_slack_server" "$b/bench/load_bench"; do
    [ -x "$f" ] || { echo "order_functions: $f is missing; build it first" >&2; exit 1; }
  done
  builds+=("$b")
done
command -v valgrind >/dev/null ||
  { echo "order_functions: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

work="$(mktemp -d)"
fake_pid=""
bot_pid=""
cleanup() {
  [ -n "$bot_pid" ] && kill -KILL "$bot_pid" 2>/dev/null || true
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The bot of $BUILD under callgrind, its profile named after the scenario, the build and the
# process.
cat >"$work/bot-under-callgrind" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --compress-strings=no --dump-instr=no \
  --callgrind-out-file="$work/\${SCENARIO}.\${BUILD_NUMBER}.%p.cg" "\$BUILD/bot/tpmbot" "\$@"
EOF
chmod +x "$work/bot-under-callgrind"

# Waits up to $2 seconds for process $1 to end, then kills it.
reap() {
  for _ in $(seq $(($2 * 10))); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Starts the fake (its arguments: nothing, or --cert/--key) and sets api_url; the fake stops
# when its stdin closes, so it reads from a fifo held open here.
start_fake() {
  rm -f "$work/fake.out" "$work/fake.in"
  mkfifo "$work/fake.in"
  "$BUILD/tests/fake_slack_server" "$@" >"$work/fake.out" 2>&1 <"$work/fake.in" &
  fake_pid=$!
  exec 3>"$work/fake.in"
  for _ in $(seq 100); do
    api_url="$(awk '/^api_url/ {print $2}' "$work/fake.out")"
    [ -n "$api_url" ] && return 0
    sleep 0.1
  done
  echo "order_functions: the fake did not start" >&2
  exit 1
}
stop_fake() {
  exec 3>&-
  reap "$fake_pid" 10
  fake_pid=""
}

# One bot run until it says it is connected, then 12 s idle (a ping goes out after 10 s),
# then SIGTERM.
connect_and_idle() {
  local scenario=$1
  shift
  rm -f "$work/db.sqlite"*
  env -i PATH=/usr/bin:/bin BUILD="$BUILD" BUILD_NUMBER="$BUILD_NUMBER" SCENARIO="$scenario" \
    SLACK_APP_TOKEN=xapp-1-test SLACK_BOT_TOKEN=xoxb-test SLACK_API_URL="$api_url" \
    TPMBOT_DB="$work/db.sqlite" TPMBOT_ADMIN_ADDR=127.0.0.1:0 "$@" \
    "$work/bot-under-callgrind" >"$work/$scenario.log" 2>&1 &
  bot_pid=$!
  for _ in $(seq 600); do
    grep -q "connected to Slack" "$work/$scenario.log" && break
    sleep 0.1
  done
  grep -q "connected to Slack" "$work/$scenario.log" ||
    { echo "order_functions: $scenario never connected:" >&2; cat "$work/$scenario.log" >&2; exit 1; }
  sleep 12
  kill -TERM "$bot_pid"
  reap "$bot_pid" 60
  bot_pid=""
}

# As tests/e2e runs them: a first day, then a restart on the same database.
console() {
  env -i PATH=/usr/bin:/bin BUILD="$BUILD" BUILD_NUMBER="$BUILD_NUMBER" SCENARIO=4-console \
    timeout 300 "$work/bot-under-callgrind" --console --db "$work/$1.db" --tz Europe/Berlin \
    --clock "$2" --script "$root/tests/data/$3.txt" >/dev/null 2>&1 ||
    { echo "order_functions: $BUILD: the console failed on $3.txt" >&2; exit 1; }
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/tls.key" -out "$work/tls.pem" 2>/dev/null

BUILD_NUMBER=0
for BUILD in "${builds[@]}"; do
  BUILD_NUMBER=$((BUILD_NUMBER + 1))
  export BUILD BUILD_NUMBER
  echo "order_functions: $BUILD: 1. start and idle over HTTP" >&2
  start_fake
  connect_and_idle 1-plain
  stop_fake

  echo "order_functions: $BUILD: 2. start and idle over HTTPS" >&2
  start_fake --cert "$work/tls.pem" --key "$work/tls.key"
  connect_and_idle 2-tls TPMBOT_CA_FILE="$work/tls.pem"
  stop_fake

  echo "order_functions: $BUILD: 3. slash commands through load_bench" >&2
  SCENARIO=3-load timeout 600 "$BUILD/bench/load_bench" --bot "$work/bot-under-callgrind" \
    --floor off --rates 20 --count 60 --sat-count 0 --refreshes 0 --channels 2 --drain 120 \
    >"$work/3-load.log" 2>&1 ||
    { echo "order_functions: $BUILD: load_bench failed:" >&2; cat "$work/3-load.log" >&2; exit 1; }

  echo "order_functions: $BUILD: 4. the console transcripts" >&2
  rm -f "$work"/session.db* "$work"/standup.db*
  console session 2026-11-25T09:00:00Z console_session
  console session 2026-11-26T10:00:00Z console_after_restart
  console standup 2026-11-24T15:00:00Z standup_day
  console standup 2026-11-27T08:30:00Z standup_after_restart
done

for b in "${builds[@]}"; do nm --defined-only "$b/bot/tpmbot"; done | awk '{print $3}' |
  sort -u >"$work/defined"
: >"$work/order"
for scenario in 1-plain 2-tls 3-load 4-console; do
  for n in $(seq "$BUILD_NUMBER"); do
    ls "$work/$scenario.$n".*.cg >/dev/null 2>&1 ||
      { echo "order_functions: no profile for $scenario of ${builds[n - 1]}" >&2; exit 1; }
  done
  # fn= and cfn= lines name the functions that ran and those they called.
  sed -n -E 's/^c?fn=//p' "$work/$scenario".*.cg | LC_ALL=C sort -u |
    awk 'FILENAME == ARGV[1] { defined[$0] = 1; next }
         FILENAME == ARGV[2] { listed[$0] = 1; next }
         ($0 in defined) && !($0 in listed)' "$work/defined" "$work/order" - >"$work/new"
  echo "order_functions: $scenario adds $(wc -l <"$work/new") functions" >&2
  cat "$work/new" >>"$work/order"
done
cp "$work/order" "$root/bot/tpmbot.order"
echo "order_functions: $(wc -l <"$root/bot/tpmbot.order") functions in bot/tpmbot.order" >&2
