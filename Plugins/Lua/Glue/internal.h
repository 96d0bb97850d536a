/* internal.h: the glue's own types, shared by its files. */
#ifndef LUA_GLUE_INTERNAL_H
#define LUA_GLUE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "lua_glue.h"

/* ------------------------------------------------------------ memory */

/* Allocations that live until the next hook call on a connection. */
typedef struct lg_arena_block lg_arena_block;
typedef struct lg_arena {
    lg_arena_block *_Nullable head;
} lg_arena;

void *_Nonnull lg_arena_alloc(lg_arena *_Nonnull arena, size_t size);
const char *_Nonnull lg_arena_copy(lg_arena *_Nonnull arena, const void *_Nullable data, size_t length);
void lg_arena_reset(lg_arena *_Nonnull arena);
char *_Nullable lg_strdup(const char *_Nullable s);
void *_Nonnull lg_memdup(const void *_Nullable data, size_t length);

/* ------------------------------------------------------------ objects */

struct lg_shared {
    pthread_mutex_t lock;          /* guards G */
    lua_State *_Nonnull G;         /* holds proxy.global's tables; never runs script code */
    int root_ref;
    lg_log_fn _Nonnull log;
    void *_Nullable log_user;
    const chassis_funnel_backends_service *_Nullable backends;
    void *_Nullable backends_instance;
};

struct lg_state {
    pthread_mutex_t lock;
    lua_State *_Nonnull L;
    lg_shared *_Nonnull shared;
    uint64_t generation;
    int body_ref;                  /* the compiled script body, LUA_NOREF when it failed to load */
    int call_ref;                  /* do_call, the C function every hook call runs under lua_pcall */
    int hook_key_refs[LG_DISCONNECT_CLIENT + 1]; /* the hooks' names as Lua strings */
    char *_Nullable path;
    struct lg_conn *_Nullable current; /* the connection whose hook runs */
};

typedef struct lg_query {
    int64_t id;
    uint8_t *_Nullable packet;
    size_t length;
    int needed;
    uint64_t appended_us;
} lg_query;

typedef struct lg_queue {
    lg_query *_Nullable items;
    size_t count, capacity;
} lg_queue;

enum lg_status { LG_NOT_RUN = 0, LG_READY, LG_LOAD_FAILED, LG_EXEC_FAILED };

typedef struct lg_conn {
    lg_state *_Nonnull state;
    uint64_t generation;           /* of the script the body ran from */
    int status;                    /* lg_status */
    uint32_t hooks;
    /* hooks_present brought the state to the script's current version; the hook call that
       follows it for the same statement need not check the file's generation again. */
    int version_checked;
    int env_ref, response_ref, queries_ref, connection_ref;
    /* The script reached proxy.response since it was last reset: the next read_query needs a
       fresh table (an untouched one is still empty and is kept: no table per query). */
    int response_touched;
    lg_queue queue;
    /* client */
    uint32_t connection_id;
    uint64_t capabilities;
    char *_Nullable client_src, *_Nullable client_dst, *_Nullable username, *_Nullable default_db,
        *_Nullable auth_plugin;
    uint8_t *_Nullable scrambled;
    size_t scrambled_length;
    /* server */
    int has_server;
    char *_Nullable server_dst, *_Nullable server_version;
    int32_t server_backend_ndx;
    uint32_t server_thread_id;
    uint8_t *_Nullable scramble;
    size_t scramble_length;
    /* set by the script during a call */
    int32_t backend_ndx;           /* -1: not set in this call */
    int connection_close;
    /* a result reached the client for the current client query */
    int result_sent;
    lg_arena arena;
    chassis_script_query *_Nullable out_queries;
    chassis_script_bytes *_Nullable out_packets;
    uint32_t out_packet_capacity;
    char backend_address[256];
} lg_conn;

/* ------------------------------------------------------------ modules */

void lg_log(lg_shared *_Nonnull shared, int level, const char *_Nonnull fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t lg_now_us(void);

/* Each opens its part of the state (under lua_cpcall). */
/* Registers a userdata type's metatable; the metamethods left NULL are not set. */
void lg_new_type(lua_State *_Nonnull L, const char *_Nonnull type, lua_CFunction _Nonnull index,
                 lua_CFunction _Nullable newindex, lua_CFunction _Nullable len, lua_CFunction _Nullable gc);
void lg_open_proxy(lua_State *_Nonnull L, lg_state *_Nonnull state);
void lg_open_queries(lua_State *_Nonnull L);
void lg_open_connection(lua_State *_Nonnull L);
void lg_open_injection(lua_State *_Nonnull L);
void lg_open_global(lua_State *_Nonnull L);
void lg_open_backends(lua_State *_Nonnull L);
void lg_open_modules(lua_State *_Nonnull L);

int lg_shared_init(lg_shared *_Nonnull shared);

/* proxy.queries and proxy.connection are userdata holding only their connection, cleared when
 * the connection goes, so a script that kept one gets an error instead of freed memory. */
typedef struct lg_conn_handle {
    lg_conn *_Nullable conn;
} lg_conn_handle;
void lg_push_queries(lua_State *_Nonnull L, lg_conn *_Nonnull conn);
void lg_push_connection(lua_State *_Nonnull L, lg_conn *_Nonnull conn);
void lg_detach(lua_State *_Nonnull L, int ref);
/* Pushes the injection object of a finished query (takes the packet of `query`). */
void lg_push_injection(lua_State *_Nonnull L, lg_query *_Nonnull query,
                       const chassis_script_query_result *_Nonnull result);
void lg_queue_clear(lg_queue *_Nonnull queue);
void lg_queue_pop_front(lg_queue *_Nonnull queue, lg_query *_Nonnull out);

/* Reads proxy.response (on the stack top) into out; 0 or -1 with an ERR already in out. */
int lg_read_response(lua_State *_Nonnull L, lg_conn *_Nonnull conn, lg_response *_Nonnull out);
void lg_error_response(lg_conn *_Nonnull conn, lg_response *_Nonnull out, const char *_Nonnull message);

/* The funnel's backends, listed now. */
typedef struct lg_backend {
    char address[256];
    uint32_t role, state, in_use;
} lg_backend;
size_t lg_list_backends(lg_shared *_Nonnull shared, lg_backend *_Nullable out, size_t capacity);

/* The state a Lua function runs in, and the connection whose hook is running (raises if none). */
lg_state *_Nonnull lg_state_of(lua_State *_Nonnull L);
lg_conn *_Nonnull lg_current(lua_State *_Nonnull L);
/* {name = "ip:port", address, port, type} as MySQL Proxy's address objects. */
void lg_push_address(lua_State *_Nonnull L, const char *_Nullable name);
/* Pushes the root of proxy.global. */
void lg_push_global_root(lua_State *_Nonnull L);

void lg_sha1(const uint8_t *_Nonnull data, size_t length, uint8_t out[_Nonnull 20]);

#endif
