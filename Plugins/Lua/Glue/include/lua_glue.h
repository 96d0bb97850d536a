/*
 * lua_glue.h: the C side of the lua plugin, as the Swift side sees it.
 *
 * Every Lua API call lives behind these functions, in C, inside a protected call: a Lua error
 * never unwinds through a Swift frame. None of these functions raises.
 */
#ifndef LUA_GLUE_H
#define LUA_GLUE_H

#include <stddef.h>
#include <stdint.h>
#include <chassis_scripting.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels are chassis_log_level. */
typedef void (*lg_log_fn)(void *_Nullable user, int level, const char *_Nonnull message);

/* Process-wide: proxy.global's shared tables, the backends, logging. */
typedef struct lg_shared lg_shared;
lg_shared *_Nullable lg_shared_new(lg_log_fn _Nonnull log, void *_Nullable log_user);
void lg_shared_free(lg_shared *_Nonnull shared);
void lg_shared_set_backends(lg_shared *_Nonnull shared, const chassis_funnel_backends_service *_Nullable backends,
                            void *_Nullable backends_instance);

/* One Lua state; the Swift side keeps one per thread. Every function takes the state's lock. */
typedef struct lg_state lg_state;
lg_state *_Nullable lg_state_new(lg_shared *_Nonnull shared);
void lg_state_free(lg_state *_Nonnull state);
uint64_t lg_state_generation(lg_state *_Nonnull state);
/* Compiles script version `generation`. source NULL: the file could not be read (error says why).
 * Returns 0, or -1 when it does not compile (the error is logged and connections get the ERR). */
int lg_state_load(lg_state *_Nonnull state, const char *_Nonnull path, const char *_Nullable source, size_t length,
                  const char *_Nullable error, uint64_t generation);

/* One client connection: its script environment, queue, response and sockets. */
typedef struct lg_conn lg_conn;
lg_conn *_Nullable lg_conn_new(lg_state *_Nonnull state, const chassis_script_connection *_Nonnull connection);
void lg_conn_free(lg_conn *_Nonnull conn);
lg_state *_Nonnull lg_conn_state(lg_conn *_Nonnull conn);
void lg_conn_set_client(lg_conn *_Nonnull conn, const chassis_script_connection *_Nonnull connection);
/* From the client's HandshakeResponse41 (decoded on the Swift side). */
void lg_conn_set_auth(lg_conn *_Nonnull conn, const char *_Nonnull username, const uint8_t *_Nullable scrambled,
                      size_t scrambled_length, const char *_Nullable database, const char *_Nullable auth_plugin);
void lg_conn_set_server(lg_conn *_Nonnull conn, const chassis_script_server *_Nullable server);
uint64_t lg_conn_capabilities(lg_conn *_Nonnull conn);
/* Runs the script body for this connection if it has not run for the current version. */
uint32_t lg_conn_hooks(lg_conn *_Nonnull conn);
/* A mark that the script's version was checked for this connection's current statement:
   set after hooks_present, taken (and cleared) by the hook call that follows. */
void lg_conn_mark_version_checked(lg_conn *_Nonnull conn);
int lg_conn_take_version_checked(lg_conn *_Nonnull conn);

/* proxy.response, read out of Lua for the Swift side to encode. Valid until the next call. */
typedef struct lg_text {
    const char *_Nullable data;   /* NULL: SQL NULL */
    size_t length;
} lg_text;

typedef struct lg_response {
    int32_t type;                 /* MYSQLD_PACKET_OK (0), _ERR (255) or _RAW (250) */
    lg_text errmsg;
    uint32_t errcode;
    char sqlstate[6];
    uint64_t affected_rows;
    uint64_t insert_id;
    int32_t has_resultset;
    uint32_t field_count;
    const lg_text *_Nullable field_names;
    const uint8_t *_Nullable field_types;
    uint32_t row_count;
    const lg_text *_Nullable cells;  /* row_count * field_count, row by row */
    uint32_t packet_count;
    const lg_text *_Nullable packets;
} lg_response;

/* The hooks, in chassis_script_hook bit order. */
typedef enum lg_hook {
    LG_CONNECT_SERVER = 0,
    LG_READ_HANDSHAKE,
    LG_READ_AUTH,
    LG_READ_AUTH_RESULT,
    LG_READ_QUERY,
    LG_READ_QUERY_RESULT,
    LG_DISCONNECT_CLIENT
} lg_hook;

/* Calls one hook. Fills result (except packets) and, when the action is SEND_RESULT, response,
 * which the caller encodes and hands back with lg_conn_add_packet. Returns the action. */
int32_t lg_call(lg_conn *_Nonnull conn, lg_hook hook, const uint8_t *_Nullable payload, size_t length,
                const chassis_script_query_result *_Nullable query_result, chassis_script_result *_Nonnull result,
                lg_response *_Nonnull response);
/* Appends one encoded response payload to result->packets (copied into the connection). */
void lg_conn_add_packet(lg_conn *_Nonnull conn, const uint8_t *_Nullable data, size_t length,
                        chassis_script_result *_Nonnull result);

#ifdef __cplusplus
}
#endif
#endif /* LUA_GLUE_H */
