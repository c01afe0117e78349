#!/usr/bin/env bash
# test-export-kill.sh BUILDDIR — forensics F3: an export killed halfway leaves
# no named plaintext file (core/sp-file.c). supolka-cli export-csv of a large
# vault runs under gdb, which stops it (a) at its first write into the export
# and (b) at the system call that gives the export its name (link, linkat or
# rename — whichever the code uses), looks at the destination folder there,
# and kills it with SIGKILL. At neither point, nor after the kill, may any
# file be in that folder. A run without the kill proves the export does land.
# TAP output. SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

build=$(cd "${1:?usage: test-export-kill.sh BUILDDIR}" && pwd)
cli=$build/app/supolka-cli
T=$(mktemp -d "${TMPDIR:-/tmp}/supolka-kill-XXXXXX")
trap 'rm -rf "$T"' EXIT
source "$(dirname "$0")/tap-util.sh"

if ! command -v gdb >/dev/null; then
  echo "1..0 # SKIP needs gdb"
  exit 0
fi
echo "correct horse battery staple" > "$T/pass"
run_cli () { "$cli" --vault "$T/vault" --passphrase-fd 3 "$@" 3<"$T/pass"; }
run_cli init --kdf interactive >/dev/null 2>&1 || not_ok "init" "supolka-cli init failed"
# 20,000 organisations: an export of a few megabytes, written in many calls.
{
  echo "name,locality,notes"
  for ((i = 0; i < 20000; i++)); do
    echo "Zubrovka Group $i,Барысаў,a long note to make the export big enough to take a while $i"
  done
} > "$T/orgs.csv"
run_cli import-csv org "$T/orgs.csv" >/dev/null 2>&1 || not_ok "import" "import-csv failed"
rm -f "$T/orgs.csv"

mkdir "$T/out"
run_cli export-csv org "$T/out/export.csv" 2>/dev/null
if [ -s "$T/out/export.csv" ] && grep -q "Zubrovka Group 19999" "$T/out/export.csv"; then
  ok "an export that is not killed lands complete"
else
  not_ok "an export that is not killed lands complete" "$(ls -la "$T/out")"
fi
[ "$(stat -c %a "$T/out/export.csv" 2>/dev/null)" = 600 ] && ok "the export is mode 0600" ||
  not_ok "the export is mode 0600" "$(stat -c %a "$T/out/export.csv")"

# $_fd_in(FOLDER, FD): whether the stopped process's descriptor FD is a file in
# FOLDER (named or not: an O_TMPFILE shows as "FOLDER/#123 (deleted)").
cat > "$T/fd-in.py" <<'PY'
import os
class FdIn(gdb.Function):
    def __init__(self):
        super().__init__("_fd_in")
    def invoke(self, folder, fd):
        try:
            target = os.readlink("/proc/%d/fd/%d" % (gdb.selected_inferior().pid, int(fd)))
        except OSError:
            return 0
        return int(os.path.dirname(target) == folder.string())
FdIn()
PY

# kill_at NAME CATCH [CONDITION]: export again, stop at the first CATCH (a gdb
# syscall catchpoint) matching CONDITION, list the folder there, SIGKILL; then
# the folder must hold nothing.
kill_at () {
  local name=$1 catch=$2 cond=${3:-}
  rm -rf "$T/out" && mkdir "$T/out"
  local gdbx=(-ex 'set pagination off' -ex 'set confirm off' -ex "source $T/fd-in.py"
              -ex "catch syscall $catch")
  [ -n "$cond" ] && gdbx+=(-ex "condition 1 $cond")
  gdbx+=(-ex "run --vault $T/vault --passphrase-fd 3 export-csv org $T/out/export.csv 3<$T/pass"
         -ex "shell ls -A $T/out > $T/at-stop" -ex 'kill' -ex 'quit')
  gdb -nx -batch "${gdbx[@]}" "$cli" > "$T/gdb.log" 2>&1
  if ! grep -q "Catchpoint 1 (call to syscall" "$T/gdb.log"; then
    not_ok "$name: the export was stopped there" "$(tail -5 "$T/gdb.log")"
    return
  fi
  if [ -s "$T/at-stop" ]; then
    not_ok "$name: nothing named in the folder while stopped" "$(cat "$T/at-stop")"
  else
    ok "$name: nothing named in the folder while stopped"
  fi
  local left
  left=$(ls -A "$T/out")
  if [ -n "$left" ]; then
    not_ok "$name: nothing left after SIGKILL" "$left"
  else
    ok "$name: nothing left after SIGKILL"
  fi
}
# The first write into the export's folder ($rdi / $x0: the descriptor).
case "$(uname -m)" in
  x86_64) fdreg='$rdi' ;;
  aarch64) fdreg='$x0' ;;
  *) fdreg='' ;;
esac
if [ -n "$fdreg" ]; then
  kill_at "killed at its first write" "write" "\$_fd_in(\"$T/out\", $fdreg)"
fi
kill_at "killed just before it gets its name" "link linkat rename renameat renameat2"

tap_end
