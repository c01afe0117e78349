#!/usr/bin/env bash
# The headless demo `make run` shows when there is no display, in the user's
# language: a throwaway vault in a temporary folder, a few records, search in
# three scripts, statistics and a CSV round trip; then sync through a real
# supolka-relay on 127.0.0.1 (a free port): a workspace on the first device, a
# second device invited, its safety code compared and approved, an edit synced
# each way, a concurrent edit of one field on both devices kept as a conflict and
# resolved. Everything is stopped and deleted at the end.
#   SUPOLKA_CLI, SUPOLKA_RELAY: the programs (default: the build tree's);
#   SUPOLKA_DEMO_REASON: why `make run` shows this (no-display, no-app).
set -euo pipefail
CLI=${SUPOLKA_CLI:-build/app/supolka-cli}
RELAY=${SUPOLKA_RELAY:-$(dirname "$CLI")/supolka-relay}

# The demo's own lines come from the supolka catalogues: the build tree's (next to
# the programs', BUILDDIR/po), else the system's.
export TEXTDOMAIN=supolka
if [ -z "${TEXTDOMAINDIR:-}" ] && [ -d "$(dirname "$CLI")/../po" ]; then
  TEXTDOMAINDIR=$(cd "$(dirname "$CLI")/../po" && pwd)
  export TEXTDOMAINDIR
fi
if command -v gettext.sh >/dev/null; then
  . gettext.sh
else # no gettext-base: English
  gettext () { printf '%s' "$1"; }
  eval_gettext () { eval "printf '%s' \"$1\""; }
fi
say () { printf '== %s\n' "$1"; }
case "${SUPOLKA_DEMO_REASON:-}" in
  no-display) gettext "No display found: running the headless demo instead."; echo ;;
  no-app) gettext "The desktop app is not built yet: running the headless demo instead."; echo ;;
esac

tmp=$(mktemp -d)
relay_pid=
cleanup () {
  if [ -n "$relay_pid" ]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
pass="$tmp/pass"
# The passphrase lives in a file in the temporary folder only for the demo.
head -c 18 /dev/urandom | base64 > "$pass"
cli() { "$CLI" --vault "$tmp/vault" --passphrase-fd 3 "$@" 3<"$pass"; }
cli2() { "$CLI" --vault "$tmp/vault2" --passphrase-fd 3 "$@" 3<"$pass"; }
fail () { printf '%s\n' "$1" >&2; exit 1; }

vault="$tmp/vault"
say "$(eval_gettext "Creating an encrypted vault in \$vault")"
cli init --kdf interactive
say "$(gettext "Adding organisations, a person and an event")"
org=$(cli add org --name "Мінская экалагічная ініцыятыва" --region minsk_city --status member \
  --kind initiative --themes "ecology, youth")
cli add org --name "Гродзенскі моладзевы клуб" --region grodno --status candidate >/dev/null
person=$(cli add person --full_name "Алег Шыманскі" --region grodno --locality "Гродна")
cli add affiliation --person "$person" --org "$org" --role "coordinator" >/dev/null
cli add event --title "Круглы стол па экалогіі" --kind round_table --start_date 2026-03-14 \
  --declared_participants 24 >/dev/null
say "$(gettext "Search folds scripts together: minsk / мінск / минск")"
for q in minsk мінск минск; do echo "-- search $q"; cli search "$q"; done
echo "-- search shymanski"; cli search shymanski
say "$(gettext "Statistics")"
cli stats
say "$(gettext "CSV export and re-import into a second vault")"
cli export-csv org "$tmp/orgs.csv"
"$CLI" --vault "$tmp/csv-vault" --passphrase-fd 3 init --kdf interactive 3<"$pass" >/dev/null
"$CLI" --vault "$tmp/csv-vault" --passphrase-fd 3 import-csv org "$tmp/orgs.csv" 3<"$pass"
say "$(gettext "What is on disk: no plaintext")"
ls -l "$tmp/vault"
if grep -rq "Шыманскі" "$tmp/vault"; then fail "$(gettext "Plaintext found in the vault folder")"; fi
gettext "grep for a stored name in the vault folder: no match"; echo

# ---- Sync -------------------------------------------------------------------
[ -x "$RELAY" ] || fail "$(eval_gettext "The relay is not built (\$RELAY); build with -Drelay=enabled")"
"$RELAY" --listen 127.0.0.1:0 --data "$tmp/relay" --open-creation >"$tmp/relay.out" 2>/dev/null &
relay_pid=$!
addr=
for _ in $(seq 100); do
  addr=$(sed -n 's/^listening on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/relay.out")
  [ -n "$addr" ] && break
  kill -0 "$relay_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$addr" ] || fail "$(gettext "The relay did not start")"
say "$(eval_gettext "A sync relay listens on \$addr; it only ever sees ciphertext")"

say "$(gettext "The first device creates a workspace on the relay")"
cli workspace create --relay "http://$addr"
say "$(gettext "It makes a one-time invite, to hand over through a channel you trust")"
invite=$(cli workspace invite --hours 1)
printf '%s...\n' "${invite:0:48}"

say "$(gettext "A second device, with a vault of its own, joins and shows a safety code")"
cli2 init --kdf interactive
joined=$(cli2 workspace join "$invite")
printf '%s\n' "$joined"
code=$(grep -oE '[0-9]{3} [0-9]{3} [0-9]{3}' <<<"$joined" | head -n 1)
[ -n "$code" ] || fail "$(gettext "No safety code was shown")"

say "$(gettext "The first device approves only a device whose safety code matches")"
echo "-- workspace approve 000 000 000"
if cli workspace approve 000 000 000; then fail "$(gettext "A wrong safety code was approved")"; fi
echo "-- workspace approve $code"
cli workspace approve "$code"

say "$(gettext "Both devices sync: the second receives the records")"
cli sync
cli2 sync
cli2 list org

say "$(gettext "An edit on each device, synced the other way")"
cli2 edit "$org" --locality "Мінск"
cli2 sync
cli sync
cli show "$org" | grep '^locality'
cli edit "$person" --secure_contact "Signal: @aleh.sh"
cli sync
cli2 sync
cli2 show "$person" | grep '^secure_contact'

say "$(gettext "Both devices change the same field before syncing")"
echo "-- edit $org --status partner"
cli edit "$org" --status partner
echo "-- edit $org --status suspended"
cli2 edit "$org" --status suspended
cli sync
cli2 sync
cli sync
say "$(gettext "Neither value is lost: the conflict is kept on both devices")"
conflicts=$(cli conflicts)
printf '%s\n' "$conflicts"
[ -n "$conflicts" ] && [ "$conflicts" = "$(cli2 conflicts)" ] ||
  fail "$(gettext "No conflict, or not the same one on both devices")"

say "$(gettext "A coordinator decides on the second device; the decision syncs like any edit")"
echo "-- resolve $org --status member"
cli2 resolve "$org" --status member
cli2 sync
cli sync
[ -z "$(cli conflicts)" ] && [ -z "$(cli2 conflicts)" ] ||
  fail "$(gettext "The conflict is still there")"
cli show "$org" | grep '^status'
gettext "The conflict is resolved on both devices."; echo

say "$(gettext "Stopping the relay")"
if grep -rq "Мінская" "$tmp/relay"; then fail "$(gettext "Plaintext found in the relay's folder")"; fi
gettext "grep for a stored name in the relay's folder: no match"; echo
kill "$relay_pid"
wait "$relay_pid" 2>/dev/null || true
relay_pid=
say "$(gettext "The desktop app needs a display: run 'make run' there.")"
