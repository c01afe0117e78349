#!/usr/bin/env python3
# Bytes per table and index of an unencrypted bench vault (plain SQLite: the
# vault of sp_vault_create_unencrypted_for_bench), with SQLite's dbstat, which
# the SQLCipher 3.4 library of Debian 12 lacks and Python's sqlite3 has.
#
#   SUPOLKA_BENCH_SIZE_DIR=/tmp/sz build/tests/bench/supolka-bench --only size --sizes 10000
#   tests/bench/vault-sizes.py /tmp/sz/plain/vault.db [RECORDS]
#
# SPDX-License-Identifier: GPL-3.0-or-later
import sqlite3
import sys

path = sys.argv[1]
records = int(sys.argv[2]) if len(sys.argv) > 2 else None
db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
page = db.execute("PRAGMA page_size").fetchone()[0]
pages = db.execute("PRAGMA page_count").fetchone()[0]
free = db.execute("PRAGMA freelist_count").fetchone()[0]
rows = db.execute(
    "SELECT name, count(*), sum(payload), sum(unused) FROM dbstat GROUP BY name ORDER BY count(*) DESC"
).fetchall()
print("| b-tree | pages | bytes | payload |%s" % (" per record |" if records else ""))
print("|---|---|---|---|%s" % ("---|" if records else ""))
for name, n, payload, unused in rows + [("(free pages)", free, 0, 0)]:
    per = " %.0f B |" % (n * page / records) if records else ""
    print("| %s | %d | %.1f MB | %.1f MB |%s" % (name, n, n * page / 1e6, payload / 1e6, per))
per = " %.0f B |" % (pages * page / records) if records else ""
print("| **total** | %d | %.1f MB | |%s" % (pages, pages * page / 1e6, per))
