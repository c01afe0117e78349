#!/usr/bin/env bash
# Fails when a source file with translatable strings is missing from
# po/POTFILES.in, or when POTFILES.in names a file that does not exist.
set -u
src=${1:?source dir}
cd "$src"
status=0
listed=$(grep -v '^#' po/POTFILES.in | sed '/^$/d' | sort)
for f in $listed; do
  [ -f "$f" ] || { echo "not ok: po/POTFILES.in names $f, which does not exist"; status=1; }
done
found=$(grep -rlE '(^|[^A-Za-z0-9_])(N?_ ?\(|ngettext ?\(|g_dngettext ?\(|C_ ?\()|translatable="yes"' \
          app core sync ui --include='*.c' --include='*.ui' --include='*.h' --include='*.in' \
          --include='*.desktop*' --include='*.xml*' 2>/dev/null | sort)
for f in $found; do
  grep -qxF "$f" <<<"$listed" || { echo "not ok: $f has translatable strings but is not in po/POTFILES.in"; status=1; }
done
[ $status = 0 ] && echo "ok: po/POTFILES.in lists every file with translatable strings"
exit $status
