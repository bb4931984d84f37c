#!/usr/bin/env bash
# The ordered link is in effect: the functions bot/tpmbot.order names, as many of them as the
# build still has, sit together in the binary's code instead of spread through it
# (BENCHMARKS.md, "Function order"). Linked in the default order their code fills about 0.4
# of the span from the first to the last of them; in the listed order nearly all of it.
# usage: function_order.sh TPMBOT_BINARY ORDER_FILE
set -euo pipefail
command -v nm >/dev/null || { echo "FAIL: nm (binutils) is needed" >&2; exit 1; }
bin="$1"
order="$2"
read -r listed found code span < <(
  nm -S -t d --defined-only "$bin" |
    awk 'NR == FNR { want[$1] = 1; listed++; next }
         ($4 in want) && ($3 ~ /^[tTwW]$/) {
           if (!named[$4]++) found++
           if (placed[$1]++) next # an alias of code already counted
           code += $2; if (lo == "" || $1 < lo) lo = $1 + 0
           if ($1 + $2 > hi) hi = $1 + $2 }
         END { print listed, found + 0, code + 0, (found ? hi - lo : 0) }' "$order" -)
echo "$found of the $listed functions listed are in the binary:" \
  "$((code / 1024)) KiB of code in a span of $((span / 1024)) KiB"
if [ "$found" -eq 0 ]; then
  echo "FAIL: no listed function is in the binary (stripped, or an empty list?)" >&2
  exit 1
fi
if [ "$found" -lt $((listed / 4)) ]; then
  echo "FAIL: most listed functions are gone; run bench/order_functions.sh to list them again" >&2
  exit 1
fi
# Dense: the listed code fills at least 80% of the span from the first to the last of them.
if [ $((code * 10)) -lt $((span * 8)) ]; then
  echo "FAIL: the listed functions are spread through the binary, not laid out in order" >&2
  exit 1
fi
