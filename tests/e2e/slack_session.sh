#!/usr/bin/env bash
# End to end with both sides as processes: the real tpmbot binary against the standalone fake
# Slack over loopback. A slash command, a mention and a button press go through; the answers
# arrive through the Web API; SIGTERM stops the bot cleanly.
#   slack_session.sh <tpmbot binary> <fake_slack_server binary>
set -euo pipefail

bot_bin="$1"
fake_bin="$2"
work="$(mktemp -d)"
bot_pid=""
cleanup() {
    [ -n "$bot_pid" ] && kill -9 "$bot_pid" 2>/dev/null || true
    [ -n "${FAKE_PID:-}" ] && kill -9 "$FAKE_PID" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

coproc FAKE { exec "$fake_bin"; }

# One command to the fake; prints its final line. Every read is bounded.
fake() {
    echo "$*" >&"${FAKE[1]}"
    local line
    while IFS= read -r -t 20 line <&"${FAKE[0]}"; do
        case "$line" in
        ok | acks\ * | calls\ * | timeout\ * | end\ * | connections\ * | error\ *)
            echo "$line"
            return 0
            ;;
        *) echo "$line" >>"$work/fake.out" ;;
        esac
    done
    echo "no answer from the fake to: $*" >&2
    return 1
}

expect() { # what got wanted
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1: got '$2', wanted '$3'" >&2
        [ -f "$work/bot.log" ] && cat "$work/bot.log" >&2
        exit 1
    fi
}

IFS= read -r -t 20 first <&"${FAKE[0]}"
api_url="${first#api_url }"
[ "$api_url" != "$first" ] || { echo "FAIL: fake said '$first'" >&2; exit 1; }

SLACK_API_URL="$api_url" SLACK_APP_TOKEN=xapp-1-test SLACK_BOT_TOKEN=xoxb-test \
    TPMBOT_DB="$work/bot.db" TPMBOT_ADMIN_ADDR=127.0.0.1:0 "$bot_bin" >"$work/bot.log" 2>&1 </dev/null &
bot_pid=$!

expect "the bot signs in and opens a connection" "$(fake wait-calls apps.connections.open 1 10000)" "calls 1"
# The fake says hello as the socket opens, and the bot reads frames in order: once the
# socket is open, what is sent next arrives after the hello.
expect "the socket is open" "$(fake wait-connections 1 10000)" "connections 1"

fake slash env-1 blocker waiting on the staging cert sev:high >/dev/null
expect "the slash command is acked" "$(fake wait-acks 1 10000)" "acks 1"
expect "its card is posted" "$(fake wait-calls chat.postMessage 1 10000)" "calls 1"

fake mention env-2 Ev2 "<@UBOT> blocker: waiting on legal" >/dev/null
expect "the mention is acked" "$(fake wait-acks 2 10000)" "acks 2"
expect "its card is posted" "$(fake wait-calls chat.postMessage 2 10000)" "calls 2"

fake send '{"envelope_id":"env-3","type":"interactive","accepts_response_payload":false,"payload":{"type":"block_actions","user":{"id":"U555","team_id":"T111"},"team":{"id":"T111"},"channel":{"id":"C111"},"container":{"type":"message","message_ts":"1.1","channel_id":"C111"},"actions":[{"action_id":"blocker_ack","type":"button","value":"blocker B-1 resolve"}]}}' >/dev/null
expect "the button press is acked" "$(fake wait-acks 3 10000)" "acks 3"
# U555 is neither DRI nor reporter: the refusal goes to them alone.
expect "the refusal is ephemeral" "$(fake wait-calls chat.postEphemeral 1 10000)" "calls 1"

sqlite3 -batch -noheader "$work/bot.db" "SELECT kind||'-'||num||' '||status FROM items ORDER BY num;" >"$work/items"
expect "items in the database" "$(cat "$work/items")" "B-1 open
B-2 open"

kill -TERM "$bot_pid"
# Wait for the process to end, at most 15 s.
timeout 15 tail --pid="$bot_pid" -s 0.1 -f /dev/null || true
if kill -0 "$bot_pid" 2>/dev/null; then
    echo "FAIL: the bot did not stop on SIGTERM" >&2
    exit 1
fi
wait "$bot_pid" && rc=0 || rc=$?
bot_pid=""
expect "exit code after SIGTERM" "$rc" "0"
fake_pid="$FAKE_PID"
echo quit >&"${FAKE[1]}"
timeout 5 tail --pid="$fake_pid" -s 0.1 -f /dev/null || true
echo "e2e slack session: all checks passed"
