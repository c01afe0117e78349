#!/usr/bin/env bash
# test-lang.sh BUILDDIR — the built programs speak the user's language from the build
# tree with no variable to set (core/sp-i18n.c), and an installed copy keeps to the
# prefix's locale folder. Runs the real binaries, not a test harness:
#   - supolka-cli under LANGUAGE=be / ru / unset: a wrong passphrase and --help;
#   - the desktop app under Xvfb: the lock page's texts, read back through AT-SPI
#     (the accessibility bus of its own dbus-run-session), as a screen reader would;
#   - `meson install --destdir`: the installed supolka-cli looks its catalogue up
#     under the prefix's locale folder, never in the build tree;
#   - the relay links sp_i18n_init but nothing of the vault.
# LANG=C.UTF-8 only: no be_BY or ru_RU locale needs to be generated. TAP output.
# SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

build=$(cd "${1:?usage: test-lang.sh BUILDDIR}" && pwd)
unset LC_ALL LC_MESSAGES LANGUAGE SUPOLKA_VAULT
export LANG=C.UTF-8
cli=$build/app/supolka-cli
app=$build/app/supolka
relay=$build/app/supolka-relay

T=$(mktemp -d "${TMPDIR:-/tmp}/supolka-lang-XXXXXX")
trap 'rm -rf "$T"' EXIT

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip () { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# expect DESCRIPTION NEEDLE OUTPUT: OUTPUT contains NEEDLE.
expect () {
  if [[ "$3" == *"$2"* ]]; then ok "$1"; else not_ok "$1" "expected: $2" "got: ${3:0:600}"; fi
}

# ---- supolka-cli from the build tree ----------------------------------------------
echo "correct horse battery staple" > "$T/pass"
echo "not the passphrase at all" > "$T/wrong"
"$cli" --vault "$T/vault" --passphrase-fd 3 init --kdf interactive 3<"$T/pass" >/dev/null 2>&1 ||
  not_ok "init a vault" "supolka-cli init failed"

declare -A wrong=([be]="Няправільная парольная фраза" [ru]="Неверная парольная фраза"
                  [en]="Wrong passphrase")
declare -A usage=([be]="Выкарыстанне: supolka-cli" [ru]="Использование: supolka-cli"
                  [en]="Usage: supolka-cli")
for lang in be ru en; do
  env=(env)
  [ "$lang" != en ] && env+=(LANGUAGE=$lang)
  out=$("${env[@]}" "$cli" --vault "$T/vault" --passphrase-fd 3 stats 3<"$T/wrong" 2>&1)
  rc=$?
  if [ $rc = 2 ]; then
    expect "supolka-cli, $lang: a wrong passphrase is refused in $lang" \
      "supolka-cli: ${wrong[$lang]}" "$out"
  else
    not_ok "supolka-cli, $lang: a wrong passphrase is refused in $lang" "exit $rc: $out"
  fi
  out=$("${env[@]}" "$cli" --help 2>&1)
  expect "supolka-cli --help, $lang" "${usage[$lang]}" "$out"
done

# ---- the desktop app's lock page, through AT-SPI ----------------------------------
# Prints the accessible names of the app's whole tree, one per line. Runs inside
# the app's own session bus; waits up to 20 s for the lock page to be there.
cat > "$T/a11y-names.sh" <<'EOF'
set -u
"$APP" >"$T/app.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
unquote () { grep -o "objectpath '[^']*'" | sed "s/objectpath '\(.*\)'/\1/"; }
prop () { gdbus call --address "$bus" --dest "$1" --object-path "$2" \
            --method org.freedesktop.DBus.Properties.Get org.a11y.atspi.Accessible "$3"; }
walk () { # walk DEST PATH DEPTH
  local i count child
  prop "$1" "$2" Name | sed "s/^(<'\(.*\)'>,)$/\1/"
  [ "$3" -lt 40 ] || return 0
  count=$(prop "$1" "$2" ChildCount | grep -o '[0-9]\+')
  for ((i = 0; i < ${count:-0}; i++)); do
    child=$(gdbus call --address "$bus" --dest "$1" --object-path "$2" \
              --method org.a11y.atspi.Accessible.GetChildAtIndex "$i" | unquote)
    [ -n "$child" ] && walk "$1" "$child" $(($3 + 1))
  done
}
for ((try = 0; try < 40; try++)); do
  sleep 0.5
  kill -0 $pid 2>/dev/null || { echo "the app exited"; cat "$T/app.log"; exit 1; }
  bus=$(gdbus call --session --dest org.a11y.Bus --object-path /org/a11y/bus \
          --method org.a11y.Bus.GetAddress 2>/dev/null | sed "s/^('\(.*\)',)$/\1/") || continue
  [ -n "$bus" ] || continue
  apps=$(gdbus call --address "$bus" --dest org.a11y.atspi.Registry \
           --object-path /org/a11y/atspi/accessible/root \
           --method org.a11y.atspi.Accessible.GetChildren 2>/dev/null |
         grep -o "'[^']*', objectpath '[^']*'" | sed "s/'\([^']*\)', objectpath '\([^']*\)'/\1 \2/")
  [ -n "$apps" ] || continue
  names=$(while read -r dest path; do walk "$dest" "$path" 0; done <<<"$apps")
  if grep -qxF "$EXPECT" <<<"$names"; then printf '%s\n' "$names"; exit 0; fi
done
printf '%s\n' "$names"
exit 1
EOF
declare -A welcome=([be]="Вітаем у Supolka" [ru]="Добро пожаловать в Supolka"
                    [en]="Welcome to Supolka")
declare -A create=([be]="Стварыць сховішча" [ru]="Создать хранилище" [en]="Create Vault")
if [ ! -x "$app" ]; then
  skip "the desktop app's lock page" "built without the GUI (-Dgui=disabled)"
elif [ -z "${DISPLAY:-}" ] || ! command -v dbus-run-session >/dev/null || ! command -v gdbus >/dev/null; then
  skip "the desktop app's lock page" "needs a display (xvfb-run), dbus-run-session and gdbus"
else
  for lang in be ru en; do
    home=$T/home-$lang
    mkdir -p "$home"
    env=(env HOME="$home" XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config"
         XDG_CACHE_HOME="$home/cache" XDG_RUNTIME_DIR="$home" GSETTINGS_BACKEND=memory
         GSETTINGS_SCHEMA_DIR="$build/app/data" GTK_A11Y=atspi APP="$app" T="$home"
         EXPECT="${welcome[$lang]}")
    [ "$lang" != en ] && env+=(LANGUAGE=$lang)
    names=$("${env[@]}" dbus-run-session -- bash "$T/a11y-names.sh" 2>/dev/null)
    expect "supolka, $lang: the lock page's title" "${welcome[$lang]}" "$names"
    expect "supolka, $lang: the lock page's button" "${create[$lang]}" "$names"
  done
fi

# ---- installed: the prefix's locale folder ----------------------------------------
dest=$T/root
if out=$(meson install -C "$build" --no-rebuild --quiet --destdir "$dest" 2>&1); then
  eval "$(meson introspect --buildoptions "$build" | python3 -c '
import json, sys, shlex
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for name in ("bindir", "localedir"):
    v = opts[name] if opts[name].startswith("/") else opts["prefix"] + "/" + opts[name]
    print(name + "=" + shlex.quote(v))
')"
  installed=$dest$bindir/supolka-cli
  mo=$localedir/be/LC_MESSAGES/supolka.mo
  run_installed () { LANGUAGE=be "$@" "$installed" --vault "$T/vault" --passphrase-fd 3 stats \
                       3<"$T/wrong" 2>&1; }
  # Under DESTDIR the prefix's catalogue is not where the binary looks, so unless this
  # machine has one installed there, English proves the build tree was not used.
  if [ -e "$mo" ]; then
    skip "installed supolka-cli does not use the build tree's catalogue" "$mo exists here"
  else
    expect "installed supolka-cli does not use the build tree's catalogue" \
      "supolka-cli: Wrong passphrase" "$(run_installed env)"
  fi
  if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
    trace=$(run_installed strace -f -e trace=open,openat -o /dev/stdout)
    expect "installed supolka-cli looks in the prefix's locale folder" "\"$mo\"" "$trace"
    if [[ "$trace" == *"$build/po/"* ]]; then
      not_ok "installed supolka-cli never opens the build tree's po/" "$(grep -F "$build/po/" <<<"$trace")"
    else
      ok "installed supolka-cli never opens the build tree's po/"
    fi
  else
    skip "installed supolka-cli looks in the prefix's locale folder" "strace not usable here"
  fi
else
  not_ok "meson install --destdir" "$out"
fi

# ---- the relay: sp_i18n_init without the vault ------------------------------------
if [ -x "$relay" ]; then
  syms=$(nm "$relay" 2>&1)
  if grep -qw sp_i18n_init <<<"$syms" && ! grep -qE ' sp_(vault|records|secret)_' <<<"$syms"; then
    ok "supolka-relay links sp_i18n_init and nothing of the vault"
  else
    not_ok "supolka-relay links sp_i18n_init and nothing of the vault" \
      "$(grep -E ' sp_' <<<"$syms" | head -5)"
  fi
else
  skip "supolka-relay links sp_i18n_init and nothing of the vault" "built without the relay"
fi

echo "1..$n"
exit $failed
