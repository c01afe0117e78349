#!/usr/bin/env bash
# test-cli-stdin.sh BUILDDIR — forensics F2: record text given on standard input
# or in a file (app/cli/cli-input.c) stores the same records as the command-line
# forms, finds the same records, and never appears in the process's command line
# (/proc/PID/cmdline, what `ps` shows to every user). TAP output.
# SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

build=$(cd "${1:?usage: test-cli-stdin.sh BUILDDIR}" && pwd)
cli=$build/app/supolka-cli
T=$(mktemp -d "${TMPDIR:-/tmp}/supolka-stdin-XXXXXX")
trap 'rm -rf "$T"' EXIT
source "$(dirname "$0")/tap-util.sh"

echo "correct horse battery staple" > "$T/pass"
c () { "$cli" --vault "$T/vault" --passphrase-fd 3 "$@" 3<"$T/pass"; }
# A record's fields as JSON, without id and creation time (they differ).
fields () { c --json show "$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["fields"], sort_keys=True, ensure_ascii=False))'; }
c init --kdf interactive >/dev/null 2>&1 || not_ok "init"

name="Зубр Ptarmigan $RANDOM"
a=$(c add event --title "$name" --locality "Барысаў" --declared-participants 12 2>&1)
b=$(printf '{"title": "%s", "locality": "Барысаў", "declared_participants": 12}' "$name" |
    c add event --from-json - 2>&1)
fa=$(fields "$a")
[[ "$fa" == *"Барысаў"* ]] || not_ok "the record added with --FIELD VALUE reads back" "$a" "$fa"
same "add --from-json - stores what --FIELD VALUE stores" "$fa" "$(fields "$b")"

printf '{"notes": "a note\\nof two lines", "locality": null}' > "$T/edit.json"
c edit "$a" --notes "a note
of two lines" --locality "" 2>&1
c edit "$b" --from-json "$T/edit.json" 2>&1
same "edit --from-json FILE changes what --FIELD VALUE changes (null clears)" \
  "$(fields "$a")" "$(fields "$b")"

same "search with no text reads one line of standard input" \
  "$(c search ptarmigan 2>&1)" "$(echo ptarmigan | c search 2>&1)"
same "search --kind K with no text reads standard input" \
  "$(c search ptarmigan --kind event 2>&1)" "$(echo ptarmigan | c search --kind event 2>&1)"
same "list --search - reads standard input" \
  "$(c list event --search ptarmigan 2>&1)" "$(echo ptarmigan | c list event --search - 2>&1)"

# While the command waits for its input, its command line holds no record text.
mkfifo "$T/fifo"
"$cli" --vault "$T/vault" --passphrase-fd 3 add org --from-json - <"$T/fifo" 3<"$T/pass" \
  >"$T/out" 2>&1 &
pid=$!
exec 4>"$T/fifo"
sleep 0.3
cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline")
printf '{"name": "Secret %s"}' "$name" >&4
exec 4>&-
wait $pid
rc=$?
if [ $rc = 0 ] && [[ "$cmdline" == *"--from-json -"* ]] && [[ "$cmdline" != *"$name"* ]]; then
  ok "the running command's cmdline shows no record text"
else
  not_ok "the running command's cmdline shows no record text" "rc $rc" "cmdline: $cmdline"
fi
same "the record given through the pipe is stored" "1" \
  "$(c search secret 2>/dev/null | wc -l | tr -d ' ')"

out=$(echo '{"name": "x"}' | "$cli" --vault "$T/vault" --passphrase-fd 0 add org --from-json - 2>&1)
rc=$?
same "stdin for both the passphrase and the record is refused (exit 4)" 4 $rc
out=$(echo '["x"]' | c add org --from-json - 2>&1)
same "a JSON value that is not an object is refused (exit 1)" 1 $?
out=$(c search </dev/null 2>&1)
same "search with no text and empty input is refused (exit 4)" 4 $?

tap_end
