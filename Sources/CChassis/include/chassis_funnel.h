/*
 * chassis_funnel.h: the services and events of the funnel plugin.
 *
 * "funnel.pools" version 1: the pools (backend x user) with their counters, and totals.
 * "funnel.backends" version 1: the backends; add, update, drain, maintenance; policy hooks.
 * "funnel.clients" version 1: the connected clients; kill one.
 * "funnel.control" version 1: pause/resume, live options, users.
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
 *   funnel.backend.added         address= role= weight=          payload: chassis_funnel_backend_info
 *   funnel.backend.removed       address=                        payload: chassis_funnel_backend_info
 *   funnel.backend.state         address= from= to= reason=      payload: chassis_funnel_backend_info
 */
#ifndef CHASSIS_FUNNEL_H
#define CHASSIS_FUNNEL_H

#include <chassis.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHASSIS_FUNNEL_POOLS_SERVICE "funnel.pools"
#define CHASSIS_FUNNEL_BACKENDS_SERVICE_NAME "funnel.backends"
#define CHASSIS_FUNNEL_CLIENTS_SERVICE "funnel.clients"
#define CHASSIS_FUNNEL_CONTROL_SERVICE "funnel.control"

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


/* ------------------------------------------------------------ backends */

typedef enum chassis_funnel_backend_state {
    CHASSIS_FUNNEL_BACKEND_UP = 1,
    CHASSIS_FUNNEL_BACKEND_DOWN = 2,         /* failed its health checks; no new work */
    CHASSIS_FUNNEL_BACKEND_DRAINING = 3,     /* being removed: transactions finish, then it goes */
    CHASSIS_FUNNEL_BACKEND_MAINTENANCE = 4   /* taken out by an operator; no new work */
} chassis_funnel_backend_state;

typedef enum chassis_funnel_backend_role {
    CHASSIS_FUNNEL_ROLE_READ_WRITE = 1,
    CHASSIS_FUNNEL_ROLE_READ_ONLY = 2
} chassis_funnel_backend_role;

typedef struct chassis_funnel_backend_info {
    uint32_t size;
    const char *_Nonnull address;            /* host:port, the backend's name */
    uint32_t role;                           /* chassis_funnel_backend_role */
    uint32_t state;                          /* chassis_funnel_backend_state */
    uint32_t weight;
    uint32_t max_connections;
    uint32_t open, idle, in_use, connecting;
    uint32_t in_flight;                      /* queries sent and not yet answered */
    uint32_t consecutive_failures;
    uint64_t queries, errors, connects_ok, connects_failed;
    uint64_t latency_p50_us, latency_p99_us; /* query latency seen through the funnel */
    uint64_t last_check_us;                  /* last health check's duration */
} chassis_funnel_backend_info;

/* For add and update. On update, 0 (or NULL) means "leave as is". */
typedef struct chassis_funnel_backend_spec {
    uint32_t size;
    const char *_Nonnull address;
    uint32_t role;
    uint32_t weight;
    uint32_t max_connections;
} chassis_funnel_backend_spec;

/* A policy another plugin registers. Both callbacks may be NULL; they run on the funnel's
 * event-loop threads and must be fast and thread-safe. When no policy is registered the
 * funnel does not call anything. */
typedef struct chassis_funnel_policy {
    uint32_t size;
    /* Return nonzero to veto `backend` for this acquisition. */
    int (*_Nullable veto_backend)(void *_Nullable user, const char *_Nonnull backend,
                                  const char *_Nonnull client_user, const char *_Nullable database);
    /* Return a cap on this pool's connections (backend x user), or UINT32_MAX for none. */
    uint32_t (*_Nullable pool_cap)(void *_Nullable user, const char *_Nonnull backend, const char *_Nonnull client_user);
    void *_Nullable user;
} chassis_funnel_policy;

typedef void (*chassis_funnel_backend_fn)(const chassis_funnel_backend_info *_Nonnull backend, void *_Nullable user);

typedef struct chassis_funnel_backends_service {
    uint32_t size;
    void (*_Nonnull list)(void *_Nullable instance, chassis_funnel_backend_fn _Nonnull fn, void *_Nullable user);
    /* Each returns CHASSIS_OK or an error code, with a message in err (NUL-terminated). */
    int (*_Nonnull add)(void *_Nullable instance, const chassis_funnel_backend_spec *_Nonnull spec,
                        char *_Nonnull err, size_t err_size);
    int (*_Nonnull update)(void *_Nullable instance, const chassis_funnel_backend_spec *_Nonnull spec,
                           char *_Nonnull err, size_t err_size);
    /* Graceful removal: no new work, open transactions finish, then its connections close;
     * after timeout_ms (0: the configured drain timeout) the rest are closed. */
    int (*_Nonnull drain)(void *_Nullable instance, const char *_Nonnull address, uint32_t timeout_ms,
                          char *_Nonnull err, size_t err_size);
    /* UP or MAINTENANCE (an operator's switch; DOWN and DRAINING are the funnel's own). */
    int (*_Nonnull set_state)(void *_Nullable instance, const char *_Nonnull address, uint32_t state,
                              char *_Nonnull err, size_t err_size);
    /* Returns an id > 0 for remove_policy. The struct is copied. */
    uint64_t (*_Nonnull add_policy)(void *_Nullable instance, const chassis_funnel_policy *_Nonnull policy);
    void (*_Nonnull remove_policy)(void *_Nullable instance, uint64_t id);
} chassis_funnel_backends_service;

/* -------------------------------------------------------------- clients */

typedef struct chassis_funnel_client_info {
    uint32_t size;
    uint32_t id;
    const char *_Nonnull user;
    const char *_Nonnull address;
    const char *_Nonnull database;           /* "" when none */
    const char *_Nonnull state;              /* authenticating, idle, waiting, active, in_transaction */
    const char *_Nonnull pinned;             /* comma-separated pin reasons, "" when not pinned */
    const char *_Nonnull backend;            /* "" when it holds no backend connection */
    const char *_Nonnull current_query;      /* the statement running (its first 1 KiB), or "" */
    uint64_t query_age_us;                   /* how long it has been running */
    uint32_t backend_thread_id;              /* the server's CONNECTION_ID(), 0 when none */
} chassis_funnel_client_info;

typedef void (*chassis_funnel_client_fn)(const chassis_funnel_client_info *_Nonnull client, void *_Nullable user);

typedef struct chassis_funnel_clients_service {
    uint32_t size;
    void (*_Nonnull list)(void *_Nullable instance, chassis_funnel_client_fn _Nonnull fn, void *_Nullable user);
    /* Closes the client's connection; CHASSIS_ERR_NOT_FOUND when no such client. */
    int (*_Nonnull kill)(void *_Nullable instance, uint32_t id);
} chassis_funnel_clients_service;

/* -------------------------------------------------------------- control */

typedef struct chassis_funnel_user_info {
    uint32_t size;
    const char *_Nonnull name;
    const char *_Nonnull database;           /* default database, "" when none */
    const char *_Nonnull pool_mode;          /* transaction or session */
    int64_t max_client_connections;          /* -1: no limit of its own */
    int64_t max_backend_connections;         /* -1: no limit of its own */
    uint32_t clients;                        /* connected now */
    const char *_Nonnull source;             /* config, admin or lookup */
} chassis_funnel_user_info;

typedef void (*chassis_funnel_user_fn)(const chassis_funnel_user_info *_Nonnull user_info, void *_Nullable user);

typedef struct chassis_funnel_control_service {
    uint32_t size;
    /* PAUSE: new statements wait in the backlog (transactions in progress go on); RESUME lets them run. */
    void (*_Nonnull pause)(void *_Nullable instance);
    void (*_Nonnull resume)(void *_Nullable instance);
    int (*_Nonnull is_paused)(void *_Nullable instance);
    /* Options that can change while running (see docs/funnel.md), by their option name. */
    int (*_Nonnull set_option)(void *_Nullable instance, const char *_Nonnull name, const char *_Nonnull value,
                               char *_Nonnull err, size_t err_size);
    /* Adds or changes a user. password: clear text or *HEX, NULL to keep; database NULL to keep;
     * limits -1 to keep; pool_mode NULL to keep. */
    int (*_Nonnull set_user)(void *_Nullable instance, const char *_Nonnull name, const char *_Nullable password,
                             const char *_Nullable database, int64_t max_client_connections,
                             int64_t max_backend_connections, const char *_Nullable pool_mode,
                             char *_Nonnull err, size_t err_size);
    void (*_Nonnull list_users)(void *_Nullable instance, chassis_funnel_user_fn _Nonnull fn, void *_Nullable user);
} chassis_funnel_control_service;

#ifdef __cplusplus
}
#endif
#endif /* CHASSIS_FUNNEL_H */
