#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, reachable only through a Unix socket.
#
#   pg.sh start DIR   creates a cluster in DIR, starts it, creates the database "tpmbot_test",
#                     and prints its URL (also written to DIR/url):
#                       postgresql:///tpmbot_test?host=SOCKETDIR&port=PORT&user=tpmbot
#   pg.sh stop DIR    stops that server and removes DIR
#
# No TCP port is bound (listen_addresses is empty): PORT only names the socket file, so any
# number will do and two servers never collide. Authentication is "trust", which is safe
# because only the socket's directory is reachable, and only on this machine.
#
# initdb refuses to run as root: as root, the server runs as the "postgres" system user, who
# owns the cluster. Starting again over a DIR left by an earlier run stops and removes it
# first. Every wait is bounded (pg_ctl -t).

set -euo pipefail

readonly db_name=tpmbot_test
readonly db_user=tpmbot
readonly wait_seconds=30

die() {
  echo "pg.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

# The directory of initdb and pg_ctl: pg_config's, else the newest Debian version's.
pg_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return
    fi
  fi
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return
  fi
  die "the PostgreSQL server programs (initdb, pg_ctl) are not installed: install the" \
    "postgresql package (deploy/lib.sh lists it)"
}

is_root() {
  [ "$(id -u)" -eq 0 ]
}

# Runs a server program as the cluster's owner: "postgres" when we are root, else ourselves.
# From "/", which that user can always enter.
as_owner() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Whether the cluster's owner can create files in $1 (and reach it).
owner_can_write() {
  as_owner test -w "$1" -a -x "$1"
}

# $1 with every byte but [A-Za-z0-9/._~-] percent-encoded, for a URL parameter.
url_encode() {
  local s="$1" out="" c i
  local LC_ALL=C
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [A-Za-z0-9/._~-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  echo "$out"
}

# Where the cluster of DIR lives: DIR itself, or (when the socket's path would be too long
# for a Unix socket, or the cluster's owner cannot reach DIR) a directory under /tmp whose
# path DIR/home records.
cluster_home() {
  local dir="$1"
  if [ -f "$dir/home" ]; then
    cat "$dir/home"
  else
    echo "$dir"
  fi
}

# Refuses to touch a DIR that exists and is not one of ours (a mistyped argument must not
# remove someone's files).
check_ours() {
  local dir="$1"
  if [ ! -e "$dir" ] || { [ -d "$dir" ] && [ -z "$(ls -A "$dir")" ]; }; then
    return 0
  fi
  if [ -f "$dir/url" ] || [ -f "$dir/home" ] || [ -f "$dir/initdb.log" ] ||
    [ -f "$dir/data/PG_VERSION" ]; then
    return 0
  fi
  die "$dir exists and was not made by pg.sh; not touching it"
}

stop_cluster() {
  local dir="$1" bindir home
  [ -d "$dir" ] || return 0
  check_ours "$dir"
  home="$(cluster_home "$dir")"
  if [ -f "$home/data/postmaster.pid" ]; then
    bindir="$(pg_bindir)"
    if ! as_owner "$bindir/pg_ctl" -D "$home/data" -m fast -w -t "$wait_seconds" stop >/dev/null; then
      echo "pg.sh: a fast stop did not finish in ${wait_seconds}s; stopping immediately" >&2
      as_owner "$bindir/pg_ctl" -D "$home/data" -m immediate -w -t "$wait_seconds" stop >/dev/null ||
        die "cannot stop the server in $home/data"
    fi
  fi
  if [ "$home" != "$dir" ]; then
    rm -rf -- "$home"
  fi
  rm -rf -- "$dir"
}

start_cluster() {
  local dir="$1" bindir home port url
  bindir="$(pg_bindir)"
  if is_root && ! getent passwd postgres >/dev/null; then
    die "running as root, the server needs the 'postgres' system user (the postgresql" \
      "package creates it)"
  fi
  stop_cluster "$dir"
  mkdir -p -- "$dir"
  # Readable by everyone, so a test user other than the server's owner reaches the socket;
  # the data directory inside stays private (initdb makes it 0700).
  chmod 0755 "$dir"
  if is_root; then
    chown postgres: "$dir"
  fi

  # 107 bytes is the longest Unix socket path; the socket is $home/.s.PGSQL.NNNNN.
  home="$dir"
  if [ $((${#dir} + 16)) -gt 100 ] || ! owner_can_write "$dir"; then
    home="$(mktemp -d /tmp/tpmbot-pg.XXXXXX)"
    chmod 0755 "$home"
    if is_root; then
      chown postgres: "$home"
    fi
    echo "$home" >"$dir/home"
  fi

  port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
  if ! as_owner "$bindir/initdb" -D "$home/data" -U "$db_user" --auth=trust --encoding=UTF8 \
    --locale=C >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed in $home/data"
  fi
  # fsync stays on (the default): the tests see the durability the bot relies on.
  as_owner tee -a "$home/data/postgresql.conf" >/dev/null <<EOF

# pg.sh: a test server on a Unix socket only
listen_addresses = ''
unix_socket_directories = '$home'
port = $port
shared_buffers = 16MB
max_connections = 100
EOF
  if ! as_owner "$bindir/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t "$wait_seconds" \
    start >/dev/null; then
    tail -n 50 "$home/server.log" >&2 || true
    die "the server did not start within ${wait_seconds}s (log: $home/server.log)"
  fi
  if ! "$bindir/createdb" -h "$home" -p "$port" -U "$db_user" "$db_name"; then
    die "cannot create the database $db_name"
  fi
  url="postgresql:///$db_name?host=$(url_encode "$home")&port=$port&user=$db_user"
  echo "$url" >"$dir/url"
  echo "$url"
}

[ $# -eq 2 ] || usage
case "$2" in
  /*) target="$2" ;;
  *) target="$PWD/$2" ;;
esac
case "$1" in
  start) start_cluster "$target" ;;
  stop) stop_cluster "$target" ;;
  *) usage ;;
esac
