/*
 * chassis_funnel.h: the services and events of the funnel plugin.
 *
 * "funnel.pools" version 1: the pools (backend x user) with their counters, and totals.
 *
 * Events (detail is key=value text; payload NULL unless said otherwise):
 *   funnel.pool.acquire          connection= backend= user= waited_us=
 *   funnel.pool.release          connection= backend= user= disposition=clean|needsReset|close
 *   funnel.pool.backlog.enter    user= db=
 *   funnel.pool.backlog.timeout  the client's error text
 *   funnel.pool.backlog.refused  client= user= reason=
 *   funnel.client.connected      client= user= address=
 *   funnel.client.disconnected   client= user=
 *   funnel.client.pinned         client= user= reason=
 */
#ifndef CHASSIS_FUNNEL_H
#define CHASSIS_FUNNEL_H

#include <chassis.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHASSIS_FUNNEL_POOLS_SERVICE "funnel.pools"

/* One pool: the backend connections logged in as one user on one backend. */
typedef struct chassis_funnel_pool_info {
    uint32_t size;
    const char *_Nonnull backend;
    const char *_Nonnull user;
    uint32_t open;          /* every state but closed */
    uint32_t idle;
    uint32_t in_use;
    uint32_t connecting;
    uint32_t waiting;       /* requests waiting for this pool */
    uint64_t hand_overs;
    uint64_t connects_ok;
    uint64_t connects_failed;
    uint64_t resets;
} chassis_funnel_pool_info;

typedef struct chassis_funnel_totals {
    uint32_t size;
    uint32_t clients;               /* connected and authenticated */
    uint32_t backend_connections;   /* open, all states */
    uint32_t waiting;               /* requests in the backlog now */
    uint64_t clients_admitted;
    uint64_t clients_refused;       /* over a client connection limit */
    uint64_t served_immediately;
    uint64_t served_after_wait;
    uint64_t backlog_timeouts;
    uint64_t backlog_refusals;      /* backlog full */
    uint64_t total_wait_ns;
    uint32_t max_waiting_seen;
} chassis_funnel_totals;

typedef void (*chassis_funnel_pool_fn)(const chassis_funnel_pool_info *_Nonnull pool, void *_Nullable user);

typedef struct chassis_funnel_pools_service {
    uint32_t size;
    void (*_Nonnull list)(void *_Nullable instance, chassis_funnel_pool_fn _Nonnull fn, void *_Nullable user);
    /* Fills `out` up to out->size bytes (set it to sizeof(chassis_funnel_totals) first). */
    void (*_Nonnull totals)(void *_Nullable instance, chassis_funnel_totals *_Nonnull out);
} chassis_funnel_pools_service;

#ifdef __cplusplus
}
#endif
#endif /* CHASSIS_FUNNEL_H */
