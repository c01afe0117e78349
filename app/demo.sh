#!/usr/bin/env bash
# The headless demo `make run` shows when there is no display: a throwaway
# vault in a temporary folder, a few records, search in three scripts,
# statistics and a CSV round trip. Everything is deleted at the end.
set -euo pipefail
CLI=${SUPOLKA_CLI:-build/app/supolka-cli}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass="$tmp/pass"
# The passphrase lives in a file in the temporary folder only for the demo.
head -c 18 /dev/urandom | base64 > "$pass"
cli() { "$CLI" --vault "$tmp/vault" --passphrase-fd 3 "$@" 3<"$pass"; }

echo "== Creating an encrypted vault in $tmp/vault"
cli init --kdf interactive
echo "== Adding organisations, a person and an event"
org=$(cli add org --name "Мінская экалагічная ініцыятыва" --region minsk_city --status member \
  --kind initiative --themes "ecology, youth")
cli add org --name "Гродзенскі моладзевы клуб" --region grodno --status candidate >/dev/null
person=$(cli add person --full_name "Алег Шыманскі" --region grodno --locality "Гродна")
cli add affiliation --person "$person" --org "$org" --role "coordinator" >/dev/null
cli add event --title "Круглы стол па экалогіі" --kind round_table --start_date 2026-03-14 \
  --declared_participants 24 >/dev/null
echo "== Search folds scripts together: minsk / мінск / минск"
for q in minsk мінск минск; do echo "-- search $q"; cli search "$q"; done
echo "-- search shymanski"; cli search shymanski
echo "== Statistics"
cli stats
echo "== CSV export and re-import into a second vault"
cli export-csv org "$tmp/orgs.csv"
"$CLI" --vault "$tmp/vault2" --passphrase-fd 3 init --kdf interactive 3<"$pass" >/dev/null
"$CLI" --vault "$tmp/vault2" --passphrase-fd 3 import-csv org "$tmp/orgs.csv" 3<"$pass"
echo "== What is on disk: no plaintext"
ls -l "$tmp/vault"
if grep -rq "Шыманскі" "$tmp/vault"; then echo "PLAINTEXT FOUND"; exit 1; else echo "grep for a stored name in the vault folder: no match"; fi
echo "== Sync through a relay comes with the sync issue; the desktop app needs a display."
