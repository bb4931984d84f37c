#!/usr/bin/env bash
# End to end: runs the real tpmbot binary on a scripted console session, checks the
# transcript against the expected one and the database afterwards, restarts the binary on the
# same database and checks that everything is still there.
#   console_session.sh <tpmbot binary> <tests/data dir>
# UPDATE_GOLDEN=1 rewrites the expected transcripts instead of comparing.
set -euo pipefail

bin="$1"
data="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
db="$work/data/tpmbot.db"
clock=2026-11-25T09:00:00Z
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 1. The session, with the database given by TPMBOT_DB (the directory is created).
TPMBOT_DB="$db" timeout 60 "$bin" --clock "$clock" --tz Europe/Berlin \
    --script "$data/console_session.txt" >"$work/session.out" 2>"$work/session.err" ||
    fail "session exited with $?"
[ -s "$work/session.err" ] && fail "session wrote to stderr: $(cat "$work/session.err")"
check_transcript console_session "$work/session.out"

# 2. The database afterwards.
expect_sql "PRAGMA journal_mode;" "wal"
expect_sql "SELECT COUNT(*) FROM items WHERE team_id='T0CONSOLE';" "15"
expect_sql "SELECT COUNT(*) FROM items WHERE team_id='T0OTHER';" "0"
expect_sql "SELECT kind||'-'||num||' '||status FROM items WHERE kind='B' ORDER BY num;" \
"B-1 open
B-2 open
B-3 open
B-4 open
B-5 acked
B-6 open
B-7 open
B-8 open"
expect_sql "SELECT num||' '||status||' '||superseded_by||supersedes FROM items WHERE kind='D' ORDER BY num;" \
"1 decided D-3
2 rejected 
3 superseded D-1"
expect_sql "SELECT dri FROM items WHERE kind='B' AND num=2;" "USAM"
expect_sql "SELECT dri FROM items WHERE kind='B' AND num=1;" "UME"
expect_sql "SELECT owner FROM areas WHERE name='Payments API';" "UALICE"
expect_sql "SELECT group_concat(action, ',') FROM (SELECT action FROM item_history WHERE kind='B' AND num=1 ORDER BY id);" \
"created,acked,updated,resolved,reopened,owner"
expect_sql "SELECT COUNT(*) FROM outbox WHERE state <> 'sent';" "0"
expect_sql "SELECT COUNT(*) FROM items WHERE title LIKE '%<!%';" "0"

# 3. Restart on the same database (--db this time): the data is still there, and ids go on.
timeout 60 "$bin" --db "$db" --clock 2026-11-26T10:00:00Z --tz Europe/Berlin \
    --script "$data/console_after_restart.txt" >"$work/restart.out" 2>"$work/restart.err" ||
    fail "restart exited with $?"
[ -s "$work/restart.err" ] && fail "restart wrote to stderr: $(cat "$work/restart.err")"
check_transcript console_after_restart "$work/restart.out"
expect_sql "SELECT COUNT(*) FROM items WHERE kind='B';" "9"
expect_sql "SELECT title FROM items WHERE kind='B' AND num=9;" "one more after the restart"
expect_sql "SELECT title||' '||status FROM items WHERE kind='D' AND num=4;" "Move the launch to Tuesday? proposed"
expect_sql "SELECT COUNT(*) FROM settings WHERE key='home.opened:UME';" "1"

# 4. A database path that cannot be opened is a clear error, not a crash.
if timeout 30 "$bin" --db /proc/tpmbot/nope.db --script "$data/console_after_restart.txt" \
    >"$work/bad.out" 2>"$work/bad.err"; then
    fail "an unusable database path was accepted"
fi
grep -q "tpmbot:" "$work/bad.err" || fail "no clear message for an unusable database: $(cat "$work/bad.err")"

finish "e2e console session"
