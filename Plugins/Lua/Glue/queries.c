/* queries.c: proxy.queries, the connection's queue of queries to send to the backend. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static lg_conn *handle_conn(lua_State *L, const char *type) {
    lg_conn_handle *h = luaL_checkudata(L, 1, type);
    if (h->conn == NULL) luaL_error(L, "%s: the connection is closed", type);
    return h->conn;
}

void lg_detach(lua_State *L, int ref) {
    if (ref == LUA_NOREF || ref == LUA_REFNIL) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lg_conn_handle *h = lua_touserdata(L, -1);
    if (h != NULL) h->conn = NULL;
    lua_pop(L, 1);
}

void lg_queue_clear(lg_queue *queue) {
    for (size_t i = 0; i < queue->count; i++) free(queue->items[i].packet);
    queue->count = 0;
}

void lg_queue_pop_front(lg_queue *queue, lg_query *out) {
    if (queue->count == 0) return;
    *out = queue->items[0];
    memmove(queue->items, queue->items + 1, (queue->count - 1) * sizeof *queue->items);
    queue->count--;
}

static void queue_insert(lg_queue *queue, size_t at, lg_query query) {
    if (queue->count == queue->capacity) {
        queue->capacity = queue->capacity ? queue->capacity * 2 : 4;
        queue->items = realloc(queue->items, queue->capacity * sizeof *queue->items);
        if (queue->items == NULL) abort();
    }
    memmove(queue->items + at + 1, queue->items + at, (queue->count - at) * sizeof *queue->items);
    queue->items[at] = query;
    queue->count++;
}

/* queries:append(id, packet [, {resultset_is_needed = bool}]) */
static int add(lua_State *L, int front) {
    lg_conn *conn = handle_conn(L, "proxy.queries");
    lua_Integer id = luaL_checkinteger(L, 2);
    size_t length;
    const char *packet = luaL_checklstring(L, 3, &length);
    int needed = 0;
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 4) != 0) {
            const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (key == NULL || strcmp(key, "resultset_is_needed") != 0)
                return luaL_argerror(L, 4, "only resultset_is_needed is a known option");
            needed = lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
    }
    lg_query query = {id, lg_memdup(packet, length), length, needed, lg_now_us()};
    queue_insert(&conn->queue, front ? 0 : conn->queue.count, query);
    return 0;
}

static int queries_append(lua_State *L) { return add(L, 0); }
static int queries_prepend(lua_State *L) { return add(L, 1); }

static int queries_reset(lua_State *L) {
    lg_queue_clear(&handle_conn(L, "proxy.queries")->queue);
    return 0;
}

static int queries_len(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)handle_conn(L, "proxy.queries")->queue.count);
    return 1;
}

void lg_open_queries(lua_State *L) {
    luaL_newmetatable(L, "proxy.queries");
    lua_newtable(L);
    lua_pushcfunction(L, queries_append);
    lua_setfield(L, -2, "append");
    lua_pushcfunction(L, queries_prepend);
    lua_setfield(L, -2, "prepend");
    lua_pushcfunction(L, queries_reset);
    lua_setfield(L, -2, "reset");
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, queries_len);
    lua_setfield(L, -2, "__len");
    lua_pop(L, 1);
}

static void push_handle(lua_State *L, lg_conn *conn, int *ref, const char *type) {
    if (*ref == LUA_NOREF) {
        lg_conn_handle *h = lua_newuserdata(L, sizeof *h);
        h->conn = conn;
        luaL_getmetatable(L, type);
        lua_setmetatable(L, -2);
        *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, *ref);
}

void lg_push_queries(lua_State *L, lg_conn *conn) { push_handle(L, conn, &conn->queries_ref, "proxy.queries"); }
void lg_push_connection(lua_State *L, lg_conn *conn) {
    push_handle(L, conn, &conn->connection_ref, "proxy.connection");
}
