/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-data.h — deterministic, realistic records for the benchmarks:
 * organisations and people with Belarusian, Russian and Latin (transliterated)
 * names, regions and localities, and the queries a user types into the search
 * box, letter by letter. Generated from a seed; nothing real. */
#pragma once

#include "supolka-core.h"

G_BEGIN_DECLS

typedef struct _BenchData BenchData;

BenchData *bench_data_new (guint32 seed);
void bench_data_free (BenchData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchData, bench_data_free)

#define BENCH_DATA_MAX_VALUES 16

/* One record of kind "org" or "person" into @values; returns how many values.
 * The strings stay valid until the next call. */
gsize bench_data_org (BenchData *data, SpFieldValue values[BENCH_DATA_MAX_VALUES]);
gsize bench_data_person (BenchData *data, SpFieldValue values[BENCH_DATA_MAX_VALUES]);

/* @n search-box contents as typed: each word a user looks for (a surname, a
 * locality, a word of an organisation's name; in Cyrillic, Latin or both mixed)
 * appears once per letter typed: "К", "Ка", "Кав", … */
GPtrArray *bench_data_queries (BenchData *data, guint n);

G_END_DECLS
