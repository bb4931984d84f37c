# Shared by run.sh and test.sh: install what is missing (Debian packages), then build.
# Idempotent: packages already installed are not touched; the build is incremental.

set -euo pipefail

TPMBOT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TPMBOT_BUILD="${TPMBOT_BUILD_DIR:-$TPMBOT_ROOT/build}"

# Build tools and libraries (Debian 12 package names).
TPMBOT_PACKAGES=(
  build-essential cmake pkg-config ccache
  libfmt-dev libhowardhinnant-date-dev tzdata
  libsqlite3-dev libsqlitecpp-dev sqlite3
  libpq-dev postgresql
  catch2
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev openssl ca-certificates libsimdjson-dev
  lld
)

tpmbot_install_deps() {
  local missing=()
  for p in "${TPMBOT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "tpmbot: installing missing packages: ${missing[*]}" >&2
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq || echo "tpmbot: apt-get update failed; trying the install anyway" >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

tpmbot_build() {
  local jobs
  jobs="$(nproc 2>/dev/null || echo 2)"
  # TPMBOT_CMAKE_ARGS: more -D options, e.g. "-DTPMBOT_SANITIZERS=ON -DTPMBOT_BUILD_BENCH=OFF".
  local extra=()
  read -r -a extra <<<"${TPMBOT_CMAKE_ARGS:-}"
  cmake -S "$TPMBOT_ROOT" -B "$TPMBOT_BUILD" -DCMAKE_BUILD_TYPE="${TPMBOT_BUILD_TYPE:-RelWithDebInfo}" \
    "${extra[@]}" >/dev/null
  cmake --build "$TPMBOT_BUILD" -j"$jobs" "$@"
}
