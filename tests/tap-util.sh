# tap-util.sh — TAP output for the shell tests (sourced): ok, not_ok, same, and
# the plan and exit status at the end (tap_end). SPDX-License-Identifier: GPL-3.0-or-later
n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
# not_ok DESCRIPTION [DIAGNOSTIC LINE ...]
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# same DESCRIPTION EXPECTED GOT
same () { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "got: $3"; fi; }
tap_end () { echo "1..$n"; exit $failed; }
