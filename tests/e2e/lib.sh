# Shared by the end-to-end scripts: checks that count failures instead of stopping, so one run
# reports every difference. The caller sets $data (tests/data), $work (a scratch dir) and $db.
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

check_transcript() { # name actual
    local expected="$data/$1.expected"
    if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
        cp "$2" "$expected"
        echo "updated $expected"
    elif ! diff -u "$expected" "$2" >"$work/$1.diff"; then
        cat "$work/$1.diff" >&2
        fail "$1 transcript differs from $expected (UPDATE_GOLDEN=1 to accept)"
    fi
}

sql() {
    sqlite3 -batch -noheader "$db" "$1"
}

expect_sql() { # query expected
    local got
    got="$(sql "$1")"
    if [ "$got" != "$2" ]; then
        fail "$1 gave '$got', expected '$2'"
    fi
}

finish() { # what passed
    if [ "$failures" -gt 0 ]; then
        echo "$failures check(s) failed" >&2
        exit 1
    fi
    echo "$1: all checks passed"
}
