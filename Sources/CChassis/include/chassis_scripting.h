/*
 * chassis_scripting.h: the "scripting" service (version 1), registered by the lua plugin.
 *
 * The funnel calls it per client connection, at the points where MySQL Proxy 0.8 called its Lua
 * hooks. When no plugin registers "scripting" the lookup returns NULL and the funnel calls nothing.
 * The full calling contract is in docs/scripting.md; in short:
 *
 *   ctx = create(instance, &connection)            at accept, on the client's event-loop thread
 *   mask = hooks_present(instance, ctx)            before each hook; skip the call when its bit is clear
 *   action = read_query(instance, ctx, payload, len, &result) ...
 *   destroy(instance, ctx)                         after disconnect_client
 *
 * Threads: every call for one ctx must come from the thread that created it (a client channel's
 * event loop). Different contexts are called concurrently from different threads.
 *
 * Packets cross as payloads without the 4-byte header: the funnel frames them and numbers them
 * (a response to a command starts at sequence id 1, a greeting at 0).
 *
 * Memory: everything a call returns through chassis_script_result points into the ctx and stays
 * valid until the next call on the same ctx (or destroy). Inputs are only read during the call.
 */
#ifndef CHASSIS_SCRIPTING_H
#define CHASSIS_SCRIPTING_H

#include <chassis.h>
#include <chassis_funnel.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHASSIS_SCRIPTING_SERVICE "scripting"
#define CHASSIS_SCRIPTING_VERSION 1

/* What a hook decided: MySQL Proxy 0.8's constants and their values. */
typedef enum chassis_script_action {
    CHASSIS_SCRIPT_NO_DECISION = 0,    /* nil: do what the funnel does without a script */
    CHASSIS_SCRIPT_SEND_QUERY = 1,     /* PROXY_SEND_QUERY: read_handshake only, as SEND_RESULT */
    CHASSIS_SCRIPT_SEND_RESULT = 2,    /* PROXY_SEND_RESULT: send result.packets to the client */
    CHASSIS_SCRIPT_SEND_INJECTION = 3, /* send result.queries[0] to the backend instead of the client's packet */
    CHASSIS_SCRIPT_IGNORE_RESULT = 4   /* PROXY_IGNORE_RESULT: drop this result */
} chassis_script_action;

/* Bits of hooks_present: the hooks the connection's script defines. */
enum {
    CHASSIS_SCRIPT_HOOK_CONNECT_SERVER = 1u << 0,
    CHASSIS_SCRIPT_HOOK_READ_HANDSHAKE = 1u << 1,
    CHASSIS_SCRIPT_HOOK_READ_AUTH = 1u << 2,
    CHASSIS_SCRIPT_HOOK_READ_AUTH_RESULT = 1u << 3,
    CHASSIS_SCRIPT_HOOK_READ_QUERY = 1u << 4,
    CHASSIS_SCRIPT_HOOK_READ_QUERY_RESULT = 1u << 5,
    CHASSIS_SCRIPT_HOOK_DISCONNECT_CLIENT = 1u << 6
};

typedef struct chassis_script_context chassis_script_context; /* one client connection's script state */

typedef struct chassis_script_bytes {
    const uint8_t *_Nullable data;
    size_t length;
} chassis_script_bytes;

/* The client side of a connection (proxy.connection.client). Strings are copied. */
typedef struct chassis_script_connection {
    uint32_t size;
    uint32_t connection_id;              /* the funnel's client id */
    const char *_Nullable client_address;/* "ip:port" of the client (client.src) */
    const char *_Nullable proxy_address; /* "ip:port" the client connected to (client.dst) */
    const char *_Nullable user;          /* NULL until authenticated */
    const char *_Nullable database;      /* the default database, NULL or "" for none */
    uint64_t client_capabilities;        /* negotiated; 0 until known (responses then assume PROTOCOL_41) */
} chassis_script_connection;

/* The backend connection the client is using now (proxy.connection.server), or none. */
typedef struct chassis_script_server {
    uint32_t size;
    const char *_Nullable address;       /* "ip:port" of the backend */
    int32_t backend_ndx;                 /* 1-based position in funnel.backends' list order; 0: none */
    uint32_t thread_id;                  /* the server's connection id */
    const char *_Nullable version;       /* e.g. "10.11.6-MariaDB" */
    chassis_script_bytes scramble;       /* the nonce of the backend's greeting */
} chassis_script_server;

/* One query of the script's queue (proxy.queries). */
typedef struct chassis_script_query {
    int64_t id;
    chassis_script_bytes packet;         /* a command payload: the COM_* byte and its arguments */
    int32_t resultset_is_needed;         /* 0: the funnel may stream this result (see read_query_result) */
} chassis_script_query;

/* What a hook call returns to the funnel. Set size before the call. */
typedef struct chassis_script_result {
    uint32_t size;
    int32_t action;                      /* chassis_script_action, also the call's return value */
    /* The queue after the call; with SEND_INJECTION send queries[0] next. */
    uint32_t query_count;
    const chassis_script_query *_Nullable queries;
    /* With SEND_RESULT: proxy.response, encoded for the client's capabilities. */
    uint32_t packet_count;
    const chassis_script_bytes *_Nullable packets;
    /* proxy.connection.backend_ndx if the script set it in this call: -1 not set, 0 release the
     * backend connection, n use backend n (backend_address names it, from funnel.backends). */
    int32_t backend_ndx;
    const char *_Nullable backend_address;
    int32_t connection_close;            /* proxy.connection.connection_close: close after this answer */
    int32_t script_failed;               /* the script raised an error in this call (it is logged) */
} chassis_script_result;

/* The response to one queued query, for read_query_result. */
typedef struct chassis_script_query_result {
    uint32_t size;
    int64_t id;                          /* the query's id, as a check */
    /* Every packet of the response, payloads in order, when the funnel buffered it. */
    uint32_t packet_count;
    const chassis_script_bytes *_Nullable packets;
    int32_t forwarded;                   /* nonzero: streamed to the client already, packets may be empty */
    uint64_t query_time_us;              /* from sending the query to the first response packet */
    uint64_t response_time_us;           /* from sending the query to the last response packet */
    /* The summary, used when the packets are absent (forwarded). */
    int32_t query_status;                /* 0 OK or result set, 255 ERR */
    uint64_t row_count;
    uint64_t bytes;                      /* row packets with their headers */
    uint64_t affected_rows;
    uint64_t insert_id;
    uint16_t warning_count;
    uint16_t server_status;
} chassis_script_query_result;

typedef struct chassis_scripting_service {
    uint32_t size;
    /* NULL when scripting is off for this connection (no script configured). */
    chassis_script_context *_Nullable (*_Nonnull create)(void *_Nullable instance,
                                                          const chassis_script_connection *_Nonnull connection);
    void (*_Nonnull destroy)(void *_Nullable instance, chassis_script_context *_Nonnull ctx);
    /* CHASSIS_SCRIPT_HOOK_* bits. Cheap (a field read, a clock read at most once a second to notice a
     * changed script file): call it before each hook rather than caching it, so a reload takes effect. */
    uint32_t (*_Nonnull hooks_present)(void *_Nullable instance, chassis_script_context *_Nonnull ctx);
    /* After authentication, and whenever the user, database or capabilities change. */
    void (*_Nonnull set_connection)(void *_Nullable instance, chassis_script_context *_Nonnull ctx,
                                    const chassis_script_connection *_Nonnull connection);
    /* When the client gets or gives back a backend connection (NULL: none). */
    void (*_Nonnull set_server)(void *_Nullable instance, chassis_script_context *_Nonnull ctx,
                                const chassis_script_server *_Nullable server);

    /* The hooks. Each returns result->action. */
    int32_t (*_Nonnull connect_server)(void *_Nullable instance, chassis_script_context *_Nonnull ctx,
                                       chassis_script_result *_Nonnull result);
    /* payload: the greeting about to go to the client (HandshakeV10). */
    int32_t (*_Nonnull read_handshake)(void *_Nullable instance, chassis_script_context *_Nonnull ctx,
                                       const uint8_t *_Nonnull payload, size_t length,
                                       chassis_script_result *_Nonnull result);
    /* payload: the client's HandshakeResponse41. */
    int32_t (*_Nonnull read_auth)(void *_Nullable instance, chassis_script_context *_Nonnull ctx,
                                  const uint8_t *_Nonnull payload, size_t length,
                                  chassis_script_result *_Nonnull result);
    /* payload: the OK or ERR about to go to the client after authentication. */
    int32_t (*_Nonnull read_auth_result)(void *_Nullable instance, chassis_script_context *_Nonnull ctx,
                                         const uint8_t *_Nonnull payload, size_t length,
                                         chassis_script_result *_Nonnull result);
    /* payload: the client's command (a >16 MB command joined into one payload). */
    int32_t (*_Nonnull read_query)(void *_Nullable instance, chassis_script_context *_Nonnull ctx,
                                   const uint8_t *_Nonnull payload, size_t length,
                                   chassis_script_result *_Nonnull result);
    /* Once per queued query, in queue order, with its response. */
    int32_t (*_Nonnull read_query_result)(void *_Nullable instance, chassis_script_context *_Nonnull ctx,
                                          const chassis_script_query_result *_Nonnull response,
                                          chassis_script_result *_Nonnull result);
    int32_t (*_Nonnull disconnect_client)(void *_Nullable instance, chassis_script_context *_Nonnull ctx,
                                          chassis_script_result *_Nonnull result);
    /* The funnel's backends for proxy.global.backends (NULL: none). Call once at start. */
    void (*_Nonnull set_backends)(void *_Nullable instance,
                                  const chassis_funnel_backends_service *_Nullable backends,
                                  void *_Nullable backends_instance);
} chassis_scripting_service;

#ifdef __cplusplus
}
#endif
#endif /* CHASSIS_SCRIPTING_H */
