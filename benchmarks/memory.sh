#!/usr/bin/env bash
# Memory used by each local host of `make demo` (or any containers named as arguments): the
# proportional set size (PSS) of every process in the host, nested chat containers included, so that
# memory shared between processes (PostgreSQL's shared buffers) is counted once.
set -euo pipefail
hosts=("$@")
[ ${#hosts[@]} -gt 0 ] || hosts=(lanying-db lanying-app lanying-gw)
printf '%-14s %9s  %s\n' host "PSS MiB" "largest processes (MiB)"
for host in "${hosts[@]}"; do
  docker exec "$host" sh -c '
    for p in /proc/[0-9]*; do
      pss=$(awk "/^Pss:/ {print \$2}" "$p/smaps_rollup" 2>/dev/null) || continue
      [ -n "$pss" ] && echo "$pss $(cat "$p/comm" 2>/dev/null)"
    done' |
    awk -v host="$host" '
      { total += $1; by[$2] += $1 }
      END {
        line = ""
        for (i = 0; i < 4; i++) {
          best = ""; for (k in by) if (best == "" || by[k] > by[best]) best = k
          if (best == "") break
          line = line sprintf("%s %d  ", best, by[best] / 1024); delete by[best]
        }
        printf "%-14s %9d  %s\n", host, total / 1024, line
      }'
done
