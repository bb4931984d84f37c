#!/usr/bin/env bash
# End to end: a whole standup day through the real binary's console (prompts in four zones,
# answers and edits by DM, reminders, digests, late answers, out of office, skip), checked
# against the expected transcript and the database; then a restart after a day of downtime:
# what already fired is not repeated, what was missed is caught up within the grace window
# or skipped and logged.
#   standup_day.sh <tpmbot binary> <tests/data dir>
# UPDATE_GOLDEN=1 rewrites the expected transcripts instead of comparing.
set -euo pipefail

bin="$1"
data="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
db="$work/tpmbot.db"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 1. Tuesday afternoon to Thursday noon, Berlin time.
timeout 60 "$bin" --db "$db" --clock 2026-11-24T15:00:00Z --tz Europe/Berlin \
    --script "$data/standup_day.txt" >"$work/day.out" 2>"$work/day.err" ||
    fail "the standup day exited with $?"
[ -s "$work/day.err" ] && fail "the standup day wrote to stderr: $(cat "$work/day.err")"
check_transcript standup_day "$work/day.out"

expect_sql "SELECT COUNT(*) FROM outbox WHERE state <> 'sent';" "0"
expect_sql "SELECT period||' '||user_id||' '||state||' '||late FROM standup_entries ORDER BY period, user_id;" \
"2026-11-25 UANA answered 0
2026-11-25 ULEE missed 0
2026-11-25 UME answered 0
2026-11-25 URAJ away 0
2026-11-26 UANA answered 1
2026-11-26 ULEE answered 0
2026-11-26 UME away 0
2026-11-26 URAJ answered 1"
expect_sql "SELECT answers FROM standup_entries WHERE user_id='UME' AND period='2026-11-25';" \
'["fixed the login bug","review the API PR and the design doc","waiting on infra for the VPN"]'
expect_sql "SELECT answers FROM standup_entries WHERE user_id='URAJ' AND period='2026-11-26';" \
'["back from leave, catching up","the release notes","nothing"]'
expect_sql "SELECT COUNT(*) FROM standup_runs WHERE reported_at > 0 AND digest_ts <> '';" "2"
expect_sql "SELECT title FROM items WHERE kind='B' AND num=2;" "waiting on infra for the VPN"
expect_sql "SELECT channel_id FROM items WHERE kind='B' AND num=2;" "CENG"
prompts_before="$(sql "SELECT COUNT(*) FROM outbox WHERE destination='dm' AND text LIKE '%:wave: *Standup for%';")"

# 2. Down until Friday 09:30 in Berlin, then back on the same database.
timeout 60 "$bin" --db "$db" --clock 2026-11-27T08:30:00Z --tz Europe/Berlin \
    --script "$data/standup_after_restart.txt" >"$work/restart.out" 2>"$work/restart.err" ||
    fail "the restart exited with $?"
[ -s "$work/restart.err" ] && fail "the restart wrote to stderr: $(cat "$work/restart.err")"
check_transcript standup_after_restart "$work/restart.out"
# Two prompts caught up (me and Raj, 30 minutes late), none repeated.
expect_sql "SELECT COUNT(*) FROM outbox WHERE destination='dm' AND text LIKE '%:wave: *Standup for%';" \
    "$((prompts_before + 2))"
expect_sql "SELECT COUNT(*) FROM job_claims WHERE period='2026-11-27';" "3"
grep -q "skipped standup prompt standup-prompt:T0CONSOLE:CENG:ULEE 2026-11-26" "$work/restart.out" ||
    fail "Lee's missed Thursday prompt was not logged as skipped"
grep -q "skipped standup prompt standup-prompt:T0CONSOLE:CENG:UANA 2026-11-27" "$work/restart.out" ||
    fail "Ana's missed Friday prompt was not logged as skipped"

finish "e2e standup day"
