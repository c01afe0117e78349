#!/bin/sh
# Makes tests/data/vault-v6/ (a schema 6 vault) and tests/data/vault-v6.json
# (everything in it, dumped through the public core API) with the programs of
# a build at schema 6 (commit 56327f7). tests/test-migrate.c opens a copy,
# migrates it to the latest schema and compares its dump with the JSON.
#
#   tests/data/make-vault-v6.sh BUILDDIR
#
# Every record kind; edits (fields with history); a deletion and an
# undeletion; links (affiliation, participation, notes, a project's lead
# org, an event's project); a conflict from two devices editing the same
# field concurrently; and sync state: a workspace on a relay started here on
# 127.0.0.1 (a free port), a second device joined and approved, syncs both
# ways. The vault kept is device A's. All people and organisations are
# invented. The passphrase is the one test-migrate.c knows.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

BUILD=$(cd "${1:?usage: make-vault-v6.sh BUILDDIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
CLI="$BUILD/app/supolka-cli"
RELAY="$BUILD/app/supolka-relay"
DUMP="$BUILD/tests/vault-dump"
PASS='fixture-v6-passphrase'

TMP=$(mktemp -d)
RELAY_PID=
cleanup () {
  [ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

export HOME="$TMP/home" XDG_DATA_HOME="$TMP/home/data" XDG_CONFIG_HOME="$TMP/home/config"
export LC_ALL=C.UTF-8 SUPOLKA_TEST_KDF=interactive
mkdir -p "$HOME"
A="$TMP/a"
B="$TMP/b"

a () { printf '%s\n' "$PASS" | "$CLI" --vault "$A" --passphrase-fd 0 "$@"; }
b () { printf '%s\n' "$PASS" | "$CLI" --vault "$B" --passphrase-fd 0 "$@"; }

# The relay, on a port it picks; it prints "listening on 127.0.0.1:PORT".
mkdir -p "$TMP/relay"
"$RELAY" --listen 127.0.0.1:0 --data "$TMP/relay" > "$TMP/relay.out" 2>&1 &
RELAY_PID=$!
for _ in $(seq 50); do
  grep -q '^listening on ' "$TMP/relay.out" && break
  sleep 0.1
done
URL="http://$(sed -n 's/^listening on //p' "$TMP/relay.out")"

a init --kdf interactive > /dev/null

# Every kind, with links between them.
ORG1=$(a add org --name 'Віцебскі гурток «Выдумка»' --name-alt 'Витебский кружок «Выдумка»' \
  --kind initiative --status candidate --region vitebsk --locality 'Віцебск' \
  --themes 'culture, youth' --email vydumka@example.org --phone '+375 29 000 00 01' \
  --notes 'Invented for the test fixture.')
ORG2=$(a add org --name 'Fundacja Przykład' --kind foundation --status partner --region abroad \
  --locality 'Białystok' --website https://example.org/przyklad --sensitivity high)
ORG3=$(a add org --name 'Гомельскае экалагічнае згуртаванне' --kind registered_ngo \
  --status member --member-since 2019-05 --region gomel --themes 'ecology')
ORG4=$(a add org --name 'Temporary Initiative' --kind other --status non_member --region brest)
P1=$(a add person --full-name 'Алеся Прыкладная' --display-name 'A. P.' --region minsk_city \
  --email alesia@example.org --secure-contact 'signal: @invented' --sensitivity high)
P2=$(a add person --full-name 'Иван Примеров' --region grodno --locality 'Лида' --phone '+375 33 000 00 02')
AFF=$(a add affiliation --person "$P1" --org "$ORG1" --role coordinator --since 2020-01-15)
PRJ=$(a add project --title 'Школа грамадскай актыўнасці' --description 'Invented project.' \
  --status active --start-date 2023-02-01 --regions 'vitebsk, gomel' --lead-org "$ORG1" \
  --funder 'Invented Fund' --tags 'education, training')
EV=$(a add event --title 'Круглы стол па экалогіі' --kind round_table --start-date 2024-03-12 \
  --end-date 2024-03-13 --region gomel --locality 'Гомель' --project "$PRJ" \
  --declared-participants 24 --notes 'Invented event.')
a add participation --person "$P2" --event "$EV" --role speaker > /dev/null
a add participation --org "$ORG3" --project "$PRJ" --role partner > /dev/null
a add note --target "$ORG1" --date 2024-04-01 --text 'Сустрэча з каардынатарам: усё добра.' > /dev/null
a add note --target "$P2" --text 'Second note, on a person.' > /dev/null

# History: edits, a cleared field, a deletion, a deletion undone.
a edit "$ORG1" --status member --member-since 2024-04
a edit "$ORG1" --phone ''
a edit "$P2" --locality 'Гродна' --email ivan@example.org
a edit "$PRJ" --status completed --end-date 2024-12-31
a delete "$ORG4"
a delete "$ORG2"
a undelete "$ORG2"
a edit "$ORG2" --notes 'Restored after a mistaken deletion.'

# Sync state: a workspace, a second device, syncs both ways.
a workspace create --relay "$URL" > /dev/null
INVITE=$(a workspace invite)
b init --kdf interactive > /dev/null
JOIN=$(b --json workspace join "$INVITE")
CODE=$(printf "%s" "$JOIN" | tr -cd "0-9 " | sed "s/^ *//;s/ *$//")
a workspace approve "$CODE" > /dev/null
a sync > /dev/null
b sync > /dev/null
b edit "$P1" --region vitebsk > /dev/null
b sync > /dev/null

# A conflict: both devices edit the same field before either syncs.
a edit "$ORG3" --locality 'Гомель'
b edit "$ORG3" --locality 'Мазыр'
b edit "$EV" --declared-participants 31
a edit "$EV" --declared-participants 30
a sync > /dev/null
b sync > /dev/null
a sync > /dev/null
a conflicts > /dev/null

rm -rf "$HERE/vault-v6"
mkdir -p "$HERE/vault-v6"
cp "$A/vault.key" "$A/vault.db" "$HERE/vault-v6/"
[ ! -e "$A/vault.db-wal" ] || { echo "make-vault-v6: WAL left behind" >&2; exit 1; }
printf '%s\n' "$PASS" | "$DUMP" "$HERE/vault-v6" > "$HERE/vault-v6.json"
# The CLI's own view as well, for a reader: every kind with --deleted, and conflicts.
{
  for k in org person affiliation project event participation note; do
    a --json list "$k" --deleted
  done
  a --json conflicts
} > "$HERE/vault-v6-cli.json"
echo "made $HERE/vault-v6 ($(du -k "$HERE/vault-v6/vault.db" | cut -f1) KiB)"
