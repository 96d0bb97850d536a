/* state.c: Lua states, the script body per connection, and the hook calls. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static const char *const hook_names[] = {
    "connect_server", "read_handshake", "read_auth", "read_auth_result",
    "read_query", "read_query_result", "disconnect_client",
};

static int do_call(lua_State *L);

static const char load_failed[] = "MySQL Proxy Lua script failed to load. Check the error log.";
static const char exec_failed[] = "MySQL Proxy Lua script failed to execute. Check the error log.";

/* ------------------------------------------------------------ shared */

lg_shared *lg_shared_new(lg_log_fn log, void *log_user) {
    lg_shared *shared = calloc(1, sizeof *shared);
    if (shared == NULL) return NULL;
    shared->log = log;
    shared->log_user = log_user;
    pthread_mutex_init(&shared->lock, NULL);
    if (lg_shared_init(shared) != 0) {
        free(shared);
        return NULL;
    }
    return shared;
}

void lg_shared_free(lg_shared *shared) {
    lua_close(shared->G);
    pthread_mutex_destroy(&shared->lock);
    free(shared);
}

void lg_shared_set_backends(lg_shared *shared, const chassis_funnel_backends_service *backends, void *instance) {
    pthread_mutex_lock(&shared->lock);
    shared->backends = backends;
    shared->backends_instance = instance;
    pthread_mutex_unlock(&shared->lock);
}

/* ------------------------------------------------------------ states */

static int open_state(lua_State *L) {
    lg_state *state = lua_touserdata(L, 1);
    luaL_openlibs(L);
    lg_open_global(L);
    lg_open_backends(L);
    lg_open_proxy(L, state);
    lg_open_queries(L);
    lg_open_connection(L);
    lg_open_injection(L);
    lg_open_modules(L);
    /* Every connection's environment falls back to _G. */
    lua_newtable(L);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    lua_setfield(L, LUA_REGISTRYINDEX, "lg.envmeta");
    /* Made once, not per call: lua_cpcall allocates a closure each time, and lua_getfield
     * interns its key each time. */
    lua_pushcfunction(L, do_call);
    state->call_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int i = 0; i <= LG_DISCONNECT_CLIENT; i++) {
        lua_pushstring(L, hook_names[i]);
        state->hook_key_refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

lg_state *lg_state_new(lg_shared *shared) {
    lg_state *state = calloc(1, sizeof *state);
    if (state == NULL) return NULL;
    state->shared = shared;
    state->body_ref = LUA_NOREF;
    state->L = luaL_newstate();
    if (state->L == NULL) {
        free(state);
        return NULL;
    }
    if (lua_cpcall(state->L, open_state, state) != 0) {
        lg_log(shared, CHASSIS_LOG_ERROR, "cannot set up a Lua state: %s", lua_tostring(state->L, -1));
        lua_close(state->L);
        free(state);
        return NULL;
    }
    pthread_mutex_init(&state->lock, NULL);
    return state;
}

void lg_state_free(lg_state *state) {
    lua_close(state->L);
    pthread_mutex_destroy(&state->lock);
    free(state->path);
    free(state);
}

/* Read before every hook call, so no lock: lg_state_load publishes the generation last, once the
 * body is in place (writers hold the lock; readers under it see the same value). */
uint64_t lg_state_generation(lg_state *state) {
    return __atomic_load_n(&state->generation, __ATOMIC_ACQUIRE);
}

/* The file is wrapped in a function, so its body runs once per connection with that
 * connection's environment. "@path" makes errors read "path:line: message". */
typedef struct load_args {
    const char *path, *source;
    size_t length;
    int ref;
} load_args;

static int load_body(lua_State *L) {
    load_args *a = lua_touserdata(L, 1);
    lua_settop(L, 0);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "return function() ");
    luaL_addlstring(&b, a->source, a->length);
    luaL_addstring(&b, "\nend\n");
    luaL_pushresult(&b);
    size_t length;
    const char *text = lua_tolstring(L, 1, &length);
    lua_pushfstring(L, "@%s", a->path);
    if (luaL_loadbuffer(L, text, length, lua_tostring(L, 2)) != 0) return lua_error(L);
    lua_call(L, 0, 1);
    a->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int lg_state_load(lg_state *state, const char *path, const char *source, size_t length, const char *error,
                  uint64_t generation) {
    pthread_mutex_lock(&state->lock);
    lua_State *L = state->L;
    int rc = 0;
    luaL_unref(L, LUA_REGISTRYINDEX, state->body_ref);
    state->body_ref = LUA_NOREF;
    free(state->path);
    state->path = lg_strdup(path);
    if (source == NULL) {
        lg_log(state->shared, CHASSIS_LOG_ERROR, "cannot read %s: %s", path, error ? error : "unknown error");
        rc = -1;
    } else {
        load_args a = {path, source, length, LUA_NOREF};
        if (lua_cpcall(L, load_body, &a) != 0) {
            lg_log(state->shared, CHASSIS_LOG_ERROR, "%s", lua_tostring(L, -1));
            rc = -1;
        }
        state->body_ref = a.ref;
        lua_settop(L, 0);
    }
    __atomic_store_n(&state->generation, generation, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&state->lock);
    return rc;
}

/* ------------------------------------------------------------ connections */

static void set_string(char **field, const char *value) {
    free(*field);
    *field = lg_strdup(value);
}

static void apply_client(lg_conn *conn, const chassis_script_connection *c) {
    conn->connection_id = c->connection_id;
    conn->capabilities = c->client_capabilities;
    set_string(&conn->client_src, c->client_address);
    set_string(&conn->client_dst, c->proxy_address);
    if (c->user != NULL) set_string(&conn->username, c->user);
    set_string(&conn->default_db, c->database);
}

static int new_conn_refs(lua_State *L) {
    lg_conn *conn = lua_touserdata(L, 1);
    lua_newtable(L);
    conn->response_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

lg_conn *lg_conn_new(lg_state *state, const chassis_script_connection *connection) {
    lg_conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL) return NULL;
    conn->state = state;
    conn->env_ref = conn->queries_ref = conn->connection_ref = LUA_NOREF;
    conn->backend_ndx = -1;
    apply_client(conn, connection);
    pthread_mutex_lock(&state->lock);
    int rc = lua_cpcall(state->L, new_conn_refs, conn);
    if (rc != 0) lua_pop(state->L, 1);
    pthread_mutex_unlock(&state->lock);
    if (rc != 0) {
        free(conn);
        return NULL;
    }
    return conn;
}

void lg_conn_free(lg_conn *conn) {
    lg_state *state = conn->state;
    pthread_mutex_lock(&state->lock);
    lua_State *L = state->L;
    lg_detach(L, conn->queries_ref);
    lg_detach(L, conn->connection_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, conn->queries_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, conn->connection_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, conn->env_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, conn->response_ref);
    pthread_mutex_unlock(&state->lock);
    lg_queue_clear(&conn->queue);
    free(conn->queue.items);
    lg_arena_reset(&conn->arena);
    free(conn->arena.head);
    free(conn->client_src);
    free(conn->client_dst);
    free(conn->username);
    free(conn->default_db);
    free(conn->auth_plugin);
    free(conn->scrambled);
    free(conn->server_dst);
    free(conn->server_version);
    free(conn->scramble);
    free(conn);
}

lg_state *lg_conn_state(lg_conn *conn) { return conn->state; }

void lg_conn_set_client(lg_conn *conn, const chassis_script_connection *connection) {
    pthread_mutex_lock(&conn->state->lock);
    apply_client(conn, connection);
    pthread_mutex_unlock(&conn->state->lock);
}

void lg_conn_set_auth(lg_conn *conn, const char *username, const uint8_t *scrambled, size_t scrambled_length,
                      const char *database, const char *auth_plugin) {
    pthread_mutex_lock(&conn->state->lock);
    set_string(&conn->username, username);
    if (database != NULL) set_string(&conn->default_db, database);
    set_string(&conn->auth_plugin, auth_plugin);
    free(conn->scrambled);
    conn->scrambled = lg_memdup(scrambled, scrambled_length);
    conn->scrambled_length = scrambled_length;
    pthread_mutex_unlock(&conn->state->lock);
}

void lg_conn_set_server(lg_conn *conn, const chassis_script_server *server) {
    pthread_mutex_lock(&conn->state->lock);
    conn->has_server = server != NULL;
    set_string(&conn->server_dst, server ? server->address : NULL);
    set_string(&conn->server_version, server ? server->version : NULL);
    conn->server_thread_id = server ? server->thread_id : 0;
    conn->server_backend_ndx = server ? server->backend_ndx : 0;
    free(conn->scramble);
    conn->scramble = server ? lg_memdup(server->scramble.data, server->scramble.length) : NULL;
    conn->scramble_length = server ? server->scramble.length : 0;
    pthread_mutex_unlock(&conn->state->lock);
}

uint64_t lg_conn_capabilities(lg_conn *conn) { return conn->capabilities; }

/* Runs the script body for the connection when it has not run for the state's script version:
 * at the first hook, and again after a reload. */
static void ensure_body(lua_State *L, lg_conn *conn) {
    lg_state *state = conn->state;
    if (conn->status != LG_NOT_RUN && conn->generation == state->generation) return;
    conn->generation = state->generation;
    luaL_unref(L, LUA_REGISTRYINDEX, conn->env_ref);
    conn->env_ref = LUA_NOREF;
    if (state->body_ref == LUA_NOREF) {
        conn->status = LG_LOAD_FAILED;
        conn->hooks = CHASSIS_SCRIPT_HOOK_READ_QUERY;
        return;
    }
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "lg.envmeta");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    conn->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, LUA_REGISTRYINDEX, state->body_ref);
    lua_pushvalue(L, -2);
    lua_setfenv(L, -2);
    if (lua_pcall(L, 0, 0, 0) != 0) {
        lg_log(state->shared, CHASSIS_LOG_ERROR, "%s", lua_tostring(L, -1));
        lua_pop(L, 2);
        conn->status = LG_EXEC_FAILED;
        conn->hooks = CHASSIS_SCRIPT_HOOK_READ_QUERY;
        return;
    }
    conn->status = LG_READY;
    conn->hooks = 0;
    for (int i = 0; i <= LG_DISCONNECT_CLIENT; i++) {
        lua_getfield(L, -1, hook_names[i]);
        if (lua_isfunction(L, -1)) conn->hooks |= 1u << i;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static int run_body(lua_State *L) {
    ensure_body(L, lua_touserdata(L, 1));
    return 0;
}

void lg_conn_mark_version_checked(lg_conn *conn) { conn->version_checked = 1; }

int lg_conn_take_version_checked(lg_conn *conn) {
    int checked = conn->version_checked;
    conn->version_checked = 0;
    return checked;
}

uint32_t lg_conn_hooks(lg_conn *conn) {
    lg_state *state = conn->state;
    if (conn->status != LG_NOT_RUN && conn->generation == lg_state_generation(state)) return conn->hooks;
    pthread_mutex_lock(&state->lock);
    state->current = conn;
    if (lua_cpcall(state->L, run_body, conn) != 0) {
        lg_log(state->shared, CHASSIS_LOG_ERROR, "%s", lua_tostring(state->L, -1));
        lua_pop(state->L, 1);
    }
    state->current = NULL;
    uint32_t hooks = conn->hooks;
    pthread_mutex_unlock(&state->lock);
    return hooks;
}

/* ------------------------------------------------------------ hook calls */

typedef struct call_args {
    lg_conn *conn;
    lg_hook hook;
    const uint8_t *payload;
    size_t length;
    const chassis_script_query_result *query_result;
    chassis_script_result *result;
    lg_response *response;
    int32_t action;
} call_args;

static int queue_nonempty(lg_conn *conn) { return conn->queue.count > 0; }

/* Maps what the hook returned to what the funnel does, as MySQL Proxy 0.8 did per hook. */
static int32_t decide(call_args *a, int32_t returned) {
    lg_conn *conn = a->conn;
    lg_shared *shared = conn->state->shared;
    switch (a->hook) {
    case LG_CONNECT_SERVER:
    case LG_READ_AUTH_RESULT:
        return returned == CHASSIS_SCRIPT_SEND_RESULT ? returned : CHASSIS_SCRIPT_NO_DECISION;
    case LG_READ_HANDSHAKE:
        return returned == CHASSIS_SCRIPT_SEND_RESULT || returned == CHASSIS_SCRIPT_SEND_QUERY
                   ? CHASSIS_SCRIPT_SEND_RESULT : CHASSIS_SCRIPT_NO_DECISION;
    case LG_READ_AUTH:
        if (returned == CHASSIS_SCRIPT_SEND_RESULT) return returned;
        return returned == CHASSIS_SCRIPT_SEND_QUERY && queue_nonempty(conn) ? CHASSIS_SCRIPT_SEND_INJECTION
                                                                               : CHASSIS_SCRIPT_NO_DECISION;
    case LG_READ_QUERY:
        if (returned == CHASSIS_SCRIPT_SEND_RESULT) {
            lg_queue_clear(&conn->queue);
            conn->result_sent = 1;
            return returned;
        }
        if (returned == CHASSIS_SCRIPT_SEND_QUERY && queue_nonempty(conn)) return CHASSIS_SCRIPT_SEND_INJECTION;
        if (queue_nonempty(conn)) {
            lg_log(shared, CHASSIS_LOG_CRITICAL,
                   "proxy.queries was filled but read_query() did not return proxy.PROXY_SEND_QUERY; "
                   "the queue is discarded and the query sent as it is");
            lg_queue_clear(&conn->queue);
        }
        return CHASSIS_SCRIPT_NO_DECISION;
    case LG_READ_QUERY_RESULT: {
        int32_t action = returned;
        if (a->query_result->forwarded) {
            conn->result_sent = 1;
            action = CHASSIS_SCRIPT_NO_DECISION;
        } else if (action != CHASSIS_SCRIPT_IGNORE_RESULT) {
            if (action != CHASSIS_SCRIPT_SEND_RESULT) action = CHASSIS_SCRIPT_NO_DECISION;
            if (conn->result_sent) {
                lg_log(shared, CHASSIS_LOG_CRITICAL,
                       "read_query_result() sent a second result for one query; only the first reaches the client");
                action = CHASSIS_SCRIPT_IGNORE_RESULT;
            }
            conn->result_sent = 1;
        }
        if (!queue_nonempty(conn) && !conn->result_sent) {
            lg_log(shared, CHASSIS_LOG_CRITICAL, "every result of the query was ignored; the client gets an error");
            lg_error_response(conn, a->response, "(lua) the script sent no result for the query");
            conn->result_sent = 1;
            return CHASSIS_SCRIPT_SEND_RESULT;
        }
        return action;
    }
    case LG_DISCONNECT_CLIENT:
        return CHASSIS_SCRIPT_NO_DECISION;
    }
    return CHASSIS_SCRIPT_NO_DECISION;
}

static int push_args(lua_State *L, call_args *a) {
    switch (a->hook) {
    case LG_READ_QUERY:
        lua_pushlstring(L, (const char *)a->payload, a->length);
        return 1;
    case LG_READ_AUTH_RESULT:
        lua_createtable(L, 0, 1);
        lua_pushlstring(L, (const char *)a->payload, a->length);
        lua_setfield(L, -2, "packet");
        return 1;
    case LG_READ_QUERY_RESULT: {
        lg_query query = {0};
        lg_queue_pop_front(&a->conn->queue, &query);
        lg_push_injection(L, &query, a->query_result);
        return 1;
    }
    default:
        return 0;
    }
}

static int do_call(lua_State *L) {
    call_args *a = lua_touserdata(L, 1);
    lg_conn *conn = a->conn;
    lg_shared *shared = conn->state->shared;
    ensure_body(L, conn);
    if (conn->status == LG_LOAD_FAILED || conn->status == LG_EXEC_FAILED) {
        if (a->hook == LG_READ_QUERY) {
            lg_error_response(conn, a->response, conn->status == LG_LOAD_FAILED ? load_failed : exec_failed);
            a->action = CHASSIS_SCRIPT_SEND_RESULT;
        }
        return 0;
    }
    if (a->hook == LG_READ_QUERY) {
        if (conn->response_touched) {
            lua_newtable(L);
            lua_rawseti(L, LUA_REGISTRYINDEX, conn->response_ref);
            conn->response_touched = 0;
        }
        lg_queue_clear(&conn->queue);
        conn->result_sent = 0;
    }
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, conn->env_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, conn->state->hook_key_refs[a->hook]);
    lua_gettable(L, 1);   /* the env falls back to _G */
    int32_t returned = CHASSIS_SCRIPT_NO_DECISION;
    int has_hook = lua_type(L, 2) == LUA_TFUNCTION;
    if (!has_hook) lua_settop(L, 1);
    int nargs = push_args(L, a);
    if (has_hook) {
        int type;
        if (lua_pcall(L, nargs, 1, 0) != 0) {
            lg_log(shared, CHASSIS_LOG_ERROR, "%s() failed: %s", hook_names[a->hook], lua_tostring(L, -1));
            a->result->script_failed = 1;
        } else if ((type = lua_type(L, -1)) == LUA_TNUMBER) {
            returned = (int32_t)lua_tointeger(L, -1);
        } else if (type != LUA_TNIL) {
            lg_log(shared, CHASSIS_LOG_WARNING, "%s() returned a %s; expected nil or a proxy.PROXY_* number",
                   hook_names[a->hook], luaL_typename(L, -1));
        }
    }
    a->action = decide(a, returned);
    if (a->action == CHASSIS_SCRIPT_SEND_RESULT && a->response->type < 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, conn->response_ref);
        lg_read_response(L, conn, a->response);
    }
    return 0;
}

static void fill_result(lg_conn *conn, chassis_script_result *result) {
    result->query_count = (uint32_t)conn->queue.count;
    result->queries = NULL;
    if (conn->queue.count > 0) {
        conn->out_queries = lg_arena_alloc(&conn->arena, conn->queue.count * sizeof(chassis_script_query));
        for (size_t i = 0; i < conn->queue.count; i++) {
            lg_query *q = &conn->queue.items[i];
            conn->out_queries[i] = (chassis_script_query){q->id, {q->packet, q->length}, q->needed};
        }
        result->queries = conn->out_queries;
    }
    result->connection_close = conn->connection_close;
    result->backend_ndx = conn->backend_ndx;
    result->backend_address = NULL;
    if (conn->backend_ndx > 0) {
        lg_backend backends[64];
        size_t count = lg_list_backends(conn->state->shared, backends, 64);
        if ((size_t)conn->backend_ndx <= count) {
            strncpy(conn->backend_address, backends[conn->backend_ndx - 1].address, sizeof conn->backend_address - 1);
            result->backend_address = conn->backend_address;
        }
    }
}

int32_t lg_call(lg_conn *conn, lg_hook hook, const uint8_t *payload, size_t length,
                const chassis_script_query_result *query_result, chassis_script_result *result,
                lg_response *response) {
    static const uint8_t empty[1];
    lg_state *state = conn->state;
    pthread_mutex_lock(&state->lock);
    lg_arena_reset(&conn->arena);
    memset(response, 0, sizeof *response);
    response->type = -1;
    result->action = CHASSIS_SCRIPT_NO_DECISION;
    result->packet_count = 0;
    result->packets = NULL;
    result->script_failed = 0;
    conn->backend_ndx = -1;
    conn->out_packet_capacity = 0;
    call_args a = {conn, hook, payload ? payload : empty, length, query_result, result, response, 0};
    state->current = conn;
    /* The stack is empty between calls, so these two pushes cannot raise. */
    lua_rawgeti(state->L, LUA_REGISTRYINDEX, state->call_ref);
    lua_pushlightuserdata(state->L, &a);
    if (lua_pcall(state->L, 1, 0, 0) != 0) {
        lg_log(state->shared, CHASSIS_LOG_ERROR, "%s() failed: %s", hook_names[hook], lua_tostring(state->L, -1));
        lua_pop(state->L, 1);
        result->script_failed = 1;
        a.action = CHASSIS_SCRIPT_NO_DECISION;
    }
    lua_settop(state->L, 0);
    state->current = NULL;
    result->action = a.action;
    fill_result(conn, result);
    pthread_mutex_unlock(&state->lock);
    return a.action;
}

void lg_conn_add_packet(lg_conn *conn, const uint8_t *data, size_t length, chassis_script_result *result) {
    if (result->packet_count == conn->out_packet_capacity) {
        uint32_t capacity = conn->out_packet_capacity ? conn->out_packet_capacity * 2 : 8;
        chassis_script_bytes *packets = lg_arena_alloc(&conn->arena, capacity * sizeof *packets);
        if (result->packet_count > 0) memcpy(packets, conn->out_packets, result->packet_count * sizeof *packets);
        conn->out_packets = packets;
        conn->out_packet_capacity = capacity;
    }
    conn->out_packets[result->packet_count++] =
        (chassis_script_bytes){(const uint8_t *)lg_arena_copy(&conn->arena, data, length), length};
    result->packets = conn->out_packets;
}
