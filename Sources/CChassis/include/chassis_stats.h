/*
 * chassis_stats.h: the "stats" service (version 1), registered by the stats plugin.
 *
 * Any plugin, Swift or C, publishes figures through it: counters, gauges and latency
 * histograms with labels, plus per-query-digest figures. When the stats plugin is not loaded
 * the lookup returns NULL and a publisher does nothing at all.
 *
 * Cost model: declare a metric once, resolve a series (one combination of label values)
 * once per object (a backend, a pool), keep the series pointer, and then add/record are
 * one call each, lock-free or sharded per thread; never a global lock per record.
 * Series and metric pointers stay valid for the life of the process (release_series
 * only marks a series as gone from snapshots).
 */
#ifndef CHASSIS_STATS_H
#define CHASSIS_STATS_H

#include <chassis.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHASSIS_STATS_SERVICE "stats"
#define CHASSIS_STATS_VERSION 1

typedef enum chassis_stats_kind {
    CHASSIS_STATS_COUNTER = 1,   /* monotonically increasing; exported as NAME_total */
    CHASSIS_STATS_GAUGE = 2,     /* goes up and down */
    CHASSIS_STATS_HISTOGRAM = 3  /* recorded values in nanoseconds, exported in seconds */
} chassis_stats_kind;

typedef struct chassis_stats_metric chassis_stats_metric;  /* a named family */
typedef struct chassis_stats_series chassis_stats_series;  /* one label combination */
typedef struct chassis_stats_digest_scope chassis_stats_digest_scope;  /* a (user, database) of the digests */

/* One figure in a snapshot. For histograms the quantiles and count/sum are filled in. */
typedef struct chassis_stats_sample {
    uint32_t size;
    const char *_Nonnull name;                 /* base name, e.g. funnel_backend_query_duration */
    const char *_Nonnull help;
    uint32_t kind;                             /* chassis_stats_kind */
    uint32_t label_count;
    const char *_Nonnull const *_Nullable label_names;
    const char *_Nonnull const *_Nullable label_values;
    double value;                              /* counter/gauge value; histogram: count */
    /* histograms only (nanoseconds) */
    uint64_t count;
    double sum;
    uint64_t min, max, p50, p90, p95, p99, p999;
} chassis_stats_sample;

typedef void (*chassis_stats_sample_fn)(const chassis_stats_sample *_Nonnull sample, void *_Nullable user);

/* A digest's figures in a snapshot. */
typedef struct chassis_stats_digest {
    uint32_t size;
    uint64_t id;                               /* hash of the normalized text */
    const char *_Nonnull text;                 /* normalized: literals as ?, IN lists as (?+) */
    const char *_Nonnull user;
    const char *_Nonnull database;
    uint64_t count, errors, rows_sent, rows_affected;
    uint64_t total_ns, min_ns, max_ns, p50_ns, p95_ns, p99_ns;
    int64_t first_seen_unix_ms, last_seen_unix_ms;
} chassis_stats_digest;

typedef void (*chassis_stats_digest_fn)(const chassis_stats_digest *_Nonnull digest, void *_Nullable user);

/* A collector is called at snapshot time to emit gauges the publisher computes on demand
 * (pool sizes, queue lengths), through `emit`. */
typedef void (*chassis_stats_emit_fn)(void *_Nonnull sink, const char *_Nonnull name, const char *_Nonnull help,
                                      uint32_t kind, const char *_Nonnull const *_Nullable label_names,
                                      const char *_Nonnull const *_Nullable label_values, uint32_t label_count,
                                      double value);
typedef void (*chassis_stats_collector_fn)(void *_Nullable user, chassis_stats_emit_fn _Nonnull emit, void *_Nonnull sink);

typedef struct chassis_stats_service {
    uint32_t size;

    /* Declares a family (or returns the existing one of that name and kind; NULL on a kind clash). */
    chassis_stats_metric *_Nullable (*_Nonnull metric)(void *_Nullable instance, uint32_t kind,
                                                       const char *_Nonnull name, const char *_Nonnull help,
                                                       const char *_Nonnull const *_Nullable label_names,
                                                       uint32_t label_count);
    /* Resolves one label combination (label_count values, in the family's order). */
    chassis_stats_series *_Nullable (*_Nonnull series)(void *_Nullable instance, chassis_stats_metric *_Nonnull metric,
                                                       const char *_Nonnull const *_Nullable label_values);
    void (*_Nonnull add)(chassis_stats_series *_Nonnull series, int64_t delta);      /* counter, gauge */
    void (*_Nonnull set)(chassis_stats_series *_Nonnull series, int64_t value);      /* gauge */
    void (*_Nonnull record)(chassis_stats_series *_Nonnull series, uint64_t nanoseconds); /* histogram */
    void (*_Nonnull release_series)(void *_Nullable instance, chassis_stats_series *_Nonnull series);

    /* Per-query digest: normalizes `query` (len bytes) and adds one execution. */
    void (*_Nonnull record_query)(void *_Nullable instance, const char *_Nonnull query, size_t len,
                                  const char *_Nonnull user, const char *_Nonnull database,
                                  uint64_t nanoseconds, uint64_t rows_sent, uint64_t rows_affected, int failed);

    /* Collectors (returns an id for remove_collector, 0 on error). */
    uint64_t (*_Nonnull add_collector)(void *_Nullable instance, chassis_stats_collector_fn _Nonnull fn, void *_Nullable user);
    void (*_Nonnull remove_collector)(void *_Nullable instance, uint64_t id);

    /* Reading: every metric (collectors included), then every digest. */
    void (*_Nonnull snapshot)(void *_Nullable instance, chassis_stats_sample_fn _Nonnull fn, void *_Nullable user);
    void (*_Nonnull digests)(void *_Nullable instance, chassis_stats_digest_fn _Nonnull fn, void *_Nullable user);
    /* Appended after the first release: present when `size` covers them. The digests' (user,
     * database) resolved once, like a series; then record_query_in passes no strings per query
     * (nothing to measure or hash). NULL when the stats plugin holds too many scopes already:
     * use record_query. A scope stays valid for the life of the process. */
    chassis_stats_digest_scope *_Nullable (*_Nonnull digest_scope)(void *_Nullable instance, const char *_Nonnull user,
                                                                   const char *_Nonnull database);
    void (*_Nonnull record_query_in)(chassis_stats_digest_scope *_Nonnull scope, const char *_Nonnull query, size_t len,
                                     uint64_t nanoseconds, uint64_t rows_sent, uint64_t rows_affected, int failed);
} chassis_stats_service;

#ifdef __cplusplus
}
#endif
#endif /* CHASSIS_STATS_H */
