#!/usr/bin/env bash
# test-demo.sh SRCDIR BUILDDIR — runs the headless demo of `make run` (app/demo.sh)
# with the built supolka-cli and supolka-relay, in English and under LANGUAGE=be
# (LANG=C.UTF-8, no locale generated): it ends successfully, shows the conflict of
# the concurrent edit and its resolution, speaks Belarusian when asked, stops its
# relay and leaves no temporary folder behind. TAP output.
# SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

src=$(cd "${1:?usage: test-demo.sh SRCDIR BUILDDIR}" && pwd)
build=$(cd "${2:?usage: test-demo.sh SRCDIR BUILDDIR}" && pwd)
unset LC_ALL LC_MESSAGES LANGUAGE SUPOLKA_VAULT TEXTDOMAINDIR
export LANG=C.UTF-8
export SUPOLKA_CLI=$build/app/supolka-cli SUPOLKA_RELAY=$build/app/supolka-relay

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# expect DESCRIPTION EXTENDED-REGEX OUTPUT
expect () {
  if grep -qE -- "$2" <<<"$3"; then ok "$1"; else not_ok "$1" "expected a line matching: $2"; fi
}

if [ ! -x "$SUPOLKA_RELAY" ]; then
  echo "1..0 # SKIP built without the relay (-Drelay=disabled)"
  exit 0
fi

declare -A created=([en]="^== Creating an encrypted vault in (/.*)/vault$"
                    [be]="^== Ствараем зашыфраванае сховішча ў (/.*)/vault$")
declare -A conflict=([en]='^[0-9a-f]{32} status: kept "[a-z_]+"; also written: "[a-z_]+" \(device [0-9a-f]{8}\)$'
                     [be]='^[0-9a-f]{32} status: пакінута «[a-z_]+»; таксама было запісана «[a-z_]+» \(прылада [0-9a-f]{8}\)$')
declare -A resolved=([en]="^The conflict is resolved on both devices\.$"
                     [be]="^Канфлікт вырашаны на абедзвюх прыладах\.$")
declare -A approved=([en]="^Approved device [0-9a-f]{32}\.$"
                     [be]="^Прылада [0-9a-f]{32} пацверджана\.$")
for lang in en be; do
  env=(env)
  [ "$lang" = be ] && env+=(LANGUAGE=be)
  start=$(date +%s)
  out=$(cd "$src" && "${env[@]}" bash app/demo.sh 2>&1)
  rc=$?
  seconds=$(($(date +%s) - start))
  if [ $rc = 0 ]; then
    ok "demo, $lang: ends successfully (${seconds} s)"
  else
    not_ok "demo, $lang: ends successfully" "exit $rc" "$(tail -n 15 <<<"$out")"
  fi
  expect "demo, $lang: its own lines are in $lang" "${created[$lang]}" "$out"
  expect "demo, $lang: the second device is approved by its safety code" "${approved[$lang]}" "$out"
  expect "demo, $lang: the concurrent edit is kept as a conflict" "${conflict[$lang]}" "$out"
  expect "demo, $lang: the conflict is resolved on both devices" "${resolved[$lang]}" "$out"
  # The relay it started is gone: nothing answers on its port any more.
  port=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$out" | head -n 1 | cut -d: -f2)
  if [ -z "$port" ]; then
    not_ok "demo, $lang: its relay is stopped" "no relay address in the output"
  elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    not_ok "demo, $lang: its relay is stopped" "127.0.0.1:$port still answers"
  else
    ok "demo, $lang: its relay is stopped"
  fi
  tmp=$(sed -nE "s|${created[$lang]}|\1|p" <<<"$out")
  if [ -n "$tmp" ] && [ ! -e "$tmp" ]; then
    ok "demo, $lang: its temporary folder is deleted"
  else
    not_ok "demo, $lang: its temporary folder is deleted" "${tmp:-no folder named}"
  fi
done

echo "1..$n"
exit $failed
