#!/usr/bin/env bash
# Every catalogue: valid (msgfmt --check, plural forms included), 100% translated,
# no fuzzy entries, and no string of the sources missing from it.
set -u
src=${1:?source dir}
cd "$src"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The same keywords as meson's i18n 'glib' preset.
xgettext --from-code=UTF-8 --add-comments=TRANSLATORS -f po/POTFILES.in -D . \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dcgettext:2 \
  --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 --keyword=ngettext:1,2 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  --flag=g_printerr:1:c-format --flag=g_print:1:c-format \
  -o "$tmp/supolka.pot" 2>"$tmp/xgettext.err" || { cat "$tmp/xgettext.err"; exit 1; }
status=0
for lang in $(grep -v '^#' po/LINGUAS); do
  po=po/$lang.po
  stats=$(msgfmt --check --statistics -o /dev/null "$po" 2>&1) || { echo "not ok: $po: $stats"; status=1; continue; }
  case "$stats" in
    *untranslated*|*fuzzy*) echo "not ok: $po: $stats"; status=1 ;;
    *) echo "ok: $po: $stats" ;;
  esac
  grep -q 'Plural-Forms: nplurals=3;' "$po" || { echo "not ok: $po: expected three plural forms"; status=1; }
  missing=$(msgcmp "$po" "$tmp/supolka.pot" 2>&1) || { echo "not ok: $po lacks strings of the sources:"; echo "$missing" | head -20; status=1; }
done
exit $status
