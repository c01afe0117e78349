#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time. New inputs go to a scratch
# corpus, never into the seed corpus in the source tree.
set -eu
exe=$1 seeds=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
exec "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
  "$work" "$seeds"
