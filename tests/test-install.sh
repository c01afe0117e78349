#!/usr/bin/env bash
# test-install.sh BUILDDIR — `meson install` into a temporary DESTDIR, then check and
# run what was installed: the programs (a throwaway vault through supolka-cli, a
# relay answering /healthz with the shipped example configuration), the desktop
# file, metainfo, icons, schema, catalogues, the systemd unit and the man pages
# (rendered without warnings, and naming every option and command the installed
# programs print in --help). TAP output.
# SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

build=$(cd "${1:?usage: test-install.sh BUILDDIR}" && pwd)
export LC_ALL=C.UTF-8
unset SUPOLKA_VAULT SUPOLKA_RELAY_CREATE_TOKEN SUPOLKA_RELAY_METRICS_TOKEN JOURNAL_STREAM

T=$(mktemp -d "${TMPDIR:-/tmp}/supolka-install-XXXXXX")
relay_pid=
cleanup () {
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip () { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check () { # check DESCRIPTION COMMAND...
  local d=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "$(printf '%s' "$out" | head -c 2000)"; fi
}

# ---- Install --------------------------------------------------------------------
dest=$T/root
if out=$(meson install -C "$build" --no-rebuild --quiet --destdir "$dest" 2>&1); then
  ok "meson install --destdir"
else
  not_ok "meson install --destdir" "$out"
  echo "1..$n"
  exit 1
fi

# Where meson put things: the configured directories, under DESTDIR.
eval "$(meson introspect --buildoptions "$build" | python3 -c '
import json, sys, shlex
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
prefix = opts["prefix"]
for name in ("bindir", "datadir", "mandir", "localedir"):
    v = opts[name]
    if not v.startswith("/"):
        v = prefix + "/" + v
    print(name + "=" + shlex.quote(v))
print("prefix=" + shlex.quote(prefix))
')"
bin=$dest$bindir
share=$dest$datadir
man1=$dest$mandir/man1
app_id=org.supolka.Supolka
# Which programs this build has (-Dgui, -Drelay), from meson's own target list.
targets=$(meson introspect --targets "$build" | python3 -c '
import json, sys
print(" ".join(t["name"] for t in json.load(sys.stdin) if t["type"] == "executable"))')
has_gui=no
[[ " $targets " == *" supolka "* ]] && has_gui=yes
has_relay=no
[[ " $targets " == *" supolka-relay "* ]] && has_relay=yes

files=("$bin/supolka-cli"
       "$share/applications/$app_id.desktop"
       "$share/metainfo/$app_id.metainfo.xml"
       "$share/icons/hicolor/scalable/apps/$app_id.svg"
       "$share/icons/hicolor/symbolic/apps/$app_id-symbolic.svg"
       "$share/glib-2.0/schemas/$app_id.gschema.xml"
       "$dest$localedir/be/LC_MESSAGES/supolka.mo"
       "$dest$localedir/ru/LC_MESSAGES/supolka.mo"
       "$man1/supolka.1" "$man1/supolka-cli.1")
[ $has_gui = yes ] && files+=("$bin/supolka")
[ $has_relay = yes ] && files+=("$bin/supolka-relay" "$man1/supolka-relay.1"
                                "$share/doc/supolka/examples/supolka-relay.conf")
missing=()
for f in "${files[@]}"; do [ -f "$f" ] || missing+=("missing: ${f#"$dest"}"); done
if [ ${#missing[@]} = 0 ]; then ok "installed files (${#files[@]})"; else not_ok "installed files" "${missing[@]}"; fi

# ---- Desktop integration ----------------------------------------------------------
if command -v desktop-file-validate >/dev/null; then
  check "installed desktop file validates" desktop-file-validate "$share/applications/$app_id.desktop"
else
  skip "installed desktop file validates" "no desktop-file-validate"
fi
if grep -qx "Exec=supolka" "$share/applications/$app_id.desktop" \
   && grep -qx "Icon=$app_id" "$share/applications/$app_id.desktop"; then
  ok "desktop file runs supolka with the installed icon"
else
  not_ok "desktop file runs supolka with the installed icon"
fi
if command -v appstreamcli >/dev/null; then
  check "installed metainfo validates" appstreamcli validate --no-net "$share/metainfo/$app_id.metainfo.xml"
else
  skip "installed metainfo validates" "no appstreamcli"
fi
mkdir -p "$T/schemas"
check "installed schema compiles (--strict)" \
  glib-compile-schemas --strict --targetdir="$T/schemas" "$share/glib-2.0/schemas"

# ---- supolka-cli -------------------------------------------------------------------
cli=$bin/supolka-cli
check "supolka-cli --help" bash -c '"$1" --help | grep -q "^Usage: supolka-cli"' _ "$cli"
check "supolka-cli --version" bash -c '[ "$("$1" --version)" = "supolka-cli 0.1.0" ]' _ "$cli"
vault=$T/vault
name="Installed test club $RANDOM"
# The passphrase goes through a pipe on fd 3 (printf is a builtin: no command line).
pp () { "$cli" --vault "$vault" --passphrase-fd 3 "$@" 3< <(printf '%s\n' "install test passphrase"); }
if out=$(pp init --kdf interactive 2>&1) \
   && id=$(pp add org --name "$name" --region gomel 2>&1) \
   && list=$(pp list org 2>&1) && grep -qF "$id  org" <<<"$list" && grep -qF "$name" <<<"$list"; then
  ok "supolka-cli init, add, list on a throwaway vault"
else
  not_ok "supolka-cli init, add, list on a throwaway vault" "$out" "${id:-}" "${list:-}"
fi
if [ -f "$vault/vault.db" ] && ! grep -rqaF "$name" "$vault"; then
  ok "the name is nowhere in the vault's files in plaintext"
else
  not_ok "the name is nowhere in the vault's files in plaintext"
fi

# ---- supolka-relay -----------------------------------------------------------------
if [ $has_relay = yes ]; then
  relay=$bin/supolka-relay
  check "supolka-relay --help" bash -c '"$1" --help | grep -q -- "--metrics-listen"' _ "$relay"
  # The shipped example configuration, with address and folder overridden.
  mkfifo "$T/relay.out"
  "$relay" --config "$share/doc/supolka/examples/supolka-relay.conf" \
    --listen 127.0.0.1:0 --data "$T/relay" >"$T/relay.out" 2>"$T/relay.err" &
  relay_pid=$!
  line=
  exec 4<"$T/relay.out"
  read -r -t 20 line <&4 || true
  port=${line#listening on 127.0.0.1:}
  if [[ $port =~ ^[0-9]+$ ]]; then
    ok "installed relay starts with the example configuration"
    body=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:" + sys.argv[1] + "/healthz", timeout=20).read().decode())' "$port" 2>&1)
    if [ "$body" = '{"status":"ok"}' ]; then ok "GET /healthz"; else not_ok "GET /healthz" "$body"; fi
  else
    not_ok "installed relay starts with the example configuration" "$line" "$(cat "$T/relay.err")"
    skip "GET /healthz" "no relay"
  fi
  kill -TERM "$relay_pid" 2>/dev/null
  if wait "$relay_pid"; then ok "relay stops cleanly on SIGTERM"; else not_ok "relay stops cleanly on SIGTERM" "$(cat "$T/relay.err")"; fi
  relay_pid=
  exec 4<&-

  # The unit: ExecStart is the installed binary; systemd accepts the unit.
  unit=$dest$prefix/lib/systemd/system/supolka-relay.service
  [ -f "$unit" ] || unit=$(find "$dest" -name supolka-relay.service | head -n 1)
  if [ -n "$unit" ] && grep -qx "ExecStart=$bindir/supolka-relay --config /etc/supolka-relay/supolka-relay.conf" "$unit"; then
    ok "systemd unit installed, ExecStart is the installed relay"
  else
    not_ok "systemd unit installed, ExecStart is the installed relay" "${unit:-no unit}"
  fi
  if command -v systemd-analyze >/dev/null && [ -n "$unit" ]; then
    mkdir -p "$T/unit"
    sed "s|^ExecStart=$bindir/|ExecStart=$bin/|" "$unit" >"$T/unit/supolka-relay.service"
    check "systemd-analyze verify" systemd-analyze verify --man=no "$T/unit/supolka-relay.service"
    exposure=$(systemd-analyze security --offline=true --no-pager "$T/unit/supolka-relay.service" 2>/dev/null \
               | sed -n 's/.*Overall exposure level for supolka-relay.service: \([0-9.]*\).*/\1/p')
    if [ -n "$exposure" ] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 2.0 else 1)' "$exposure"; then
      ok "systemd-analyze security: exposure $exposure (at most 2.0)"
    else
      not_ok "systemd-analyze security: exposure ${exposure:-unknown} (at most 2.0)"
    fi
  else
    skip "systemd-analyze verify" "no systemd-analyze"
    skip "systemd-analyze security" "no systemd-analyze"
  fi
else
  skip "supolka-relay" "built with -Drelay=disabled"
fi

# ---- supolka ------------------------------------------------------------------------
if [ $has_gui = yes ]; then
  check "supolka --help" env -u DISPLAY -u WAYLAND_DISPLAY GSETTINGS_SCHEMA_DIR="$T/schemas" \
    bash -c '"$1" --help | grep -q "supolka"' _ "$bin/supolka"
else
  skip "supolka --help" "the GUI is not built"
fi

# ---- Man pages ------------------------------------------------------------------------
# Plain text of a page's source: roff escapes and fonts out, \- as -.
page_text () { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' "$1"; }
# Every --option and every command word of a --help text must be in the page.
missing_from_page () { # PAGE HELP-TEXT
  local text word
  text=$(page_text "$1")
  for word in $(grep -oE -- '--[a-z][a-z0-9-]+' <<<"$2" | sort -u); do
    grep -qF -- "$word" <<<"$text" || echo "$word"
  done
}
for page in supolka supolka-cli supolka-relay; do
  f=$man1/$page.1
  if [ ! -f "$f" ]; then
    [ "$page" = supolka-relay ] && [ $has_relay = no ] && continue
    not_ok "man page $page.1 installed"
    continue
  fi
  if command -v groff >/dev/null; then
    warnings=$(groff -man -Tutf8 -ww -z "$f" 2>&1)
    rendered=$(groff -man -Tutf8 -P-c -P-b -P-u "$f" 2>/dev/null)
    if [ -z "$warnings" ] && grep -q "^NAME" <<<"$rendered"; then
      ok "man page $page.1 renders without warnings"
    else
      not_ok "man page $page.1 renders without warnings" "$warnings"
    fi
  else
    skip "man page $page.1 renders" "no groff"
  fi
  case $page in
    supolka) [ $has_gui = yes ] || continue
             help=$(env -u DISPLAY -u WAYLAND_DISPLAY GSETTINGS_SCHEMA_DIR="$T/schemas" "$bin/supolka" --help-all 2>&1) ;;
    supolka-cli) help=$("$cli" --help 2>&1)
                 # Command words: first word of each command line, and each word after " | ".
                 cmds=$(sed -n '/^Commands:/,/^$/p' <<<"$help" | grep -oE '(^  [a-z][a-z-]+|\| [a-z][a-z-]+)' \
                        | sed -E 's/^(  |\| )//' | sort -u) ;;
    supolka-relay) help=$("$bin/supolka-relay" --help 2>&1) ;;
  esac
  missing=$(missing_from_page "$f" "$help")
  if [ "$page" = supolka-cli ]; then
    text=$(page_text "$f")
    for c in $cmds; do grep -qE "(^|[^a-z-])$c([^a-z-]|$)" <<<"$text" || missing+=" $c"; done
  fi
  missing=$(echo $missing)
  if [ -z "$missing" ]; then
    ok "man page $page.1 names every option and command of --help"
  else
    not_ok "man page $page.1 names every option and command of --help" "not in the page: $missing"
  fi
done

echo "1..$n"
exit $failed
