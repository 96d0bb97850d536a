/* backends.c: proxy.global.backends, read through the funnel's funnel.backends service. */
#include <string.h>
#include "internal.h"

typedef struct collector {
    lg_backend *out;
    size_t capacity, count;
} collector;

static void collect(const chassis_funnel_backend_info *info, void *user) {
    collector *c = user;
    if (c->out != NULL && c->count < c->capacity) {
        lg_backend *b = &c->out[c->count];
        strncpy(b->address, info->address, sizeof b->address - 1);
        b->address[sizeof b->address - 1] = 0;
        b->role = info->role;
        b->state = info->state;
        b->in_use = info->in_use;
    }
    c->count++;
}

size_t lg_list_backends(lg_shared *shared, lg_backend *out, size_t capacity) {
    pthread_mutex_lock(&shared->lock);
    const chassis_funnel_backends_service *service = shared->backends;
    void *instance = shared->backends_instance;
    pthread_mutex_unlock(&shared->lock);
    collector c = {out, capacity, 0};
    if (service != NULL) service->list(instance, collect, &c);
    return c.count < capacity ? c.count : capacity;
}

#define MAX_BACKENDS 64

/* backends[i] is a userdata holding i; every read lists the funnel's backends afresh. */
static int backend_at(lua_State *L, int index, lg_backend *out) {
    int *ndx = luaL_checkudata(L, index, "proxy.backend");
    lg_backend all[MAX_BACKENDS];
    size_t count = lg_list_backends(lg_state_of(L)->shared, all, MAX_BACKENDS);
    if (*ndx < 1 || (size_t)*ndx > count) return 0;
    *out = all[*ndx - 1];
    return 1;
}

/* The funnel's UP is BACKEND_STATE_UP; down, draining and maintenance are all DOWN to a script. */
static int script_state(uint32_t state) { return state == CHASSIS_FUNNEL_BACKEND_UP ? 1 : 2; }

/* pool.min/max_idle_connections are only for scripts: one table per backend address and state. */
static void push_pool(lua_State *L, const char *address) {
    lua_getfield(L, LUA_REGISTRYINDEX, "lg.pools");
    lua_getfield(L, -1, address);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, 0);
        lua_setfield(L, -2, "min_idle_connections");
        lua_pushinteger(L, 0);
        lua_setfield(L, -2, "max_idle_connections");
        lua_newtable(L);
        lua_getfield(L, LUA_REGISTRYINDEX, "lg.poolusers");
        lua_setmetatable(L, -2);
        lua_setfield(L, -2, "users");
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, address);
    }
    lua_remove(L, -2);
}

static int backend_index(lua_State *L) {
    lg_backend b;
    if (!backend_at(L, 1, &b)) return 0;
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "dst") == 0) lg_push_address(L, b.address);
    else if (strcmp(key, "connected_clients") == 0) lua_pushinteger(L, b.in_use);
    else if (strcmp(key, "state") == 0) lua_pushinteger(L, script_state(b.state));
    else if (strcmp(key, "type") == 0) lua_pushinteger(L, b.role == CHASSIS_FUNNEL_ROLE_READ_ONLY ? 2 : 1);
    else if (strcmp(key, "pool") == 0) push_pool(L, b.address);
    else lua_pushnil(L);
    return 1;
}

/* state = BACKEND_STATE_DOWN takes the backend out (funnel maintenance), UP brings it back. */
static int backend_newindex(lua_State *L) {
    lg_backend b;
    if (!backend_at(L, 1, &b)) return luaL_error(L, "proxy.global.backends: no such backend");
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "state") != 0) return luaL_error(L, "proxy.global.backends[i].%s is read-only", key);
    lg_shared *shared = lg_state_of(L)->shared;
    uint32_t state = luaL_checkinteger(L, 3) == 1 ? CHASSIS_FUNNEL_BACKEND_UP : CHASSIS_FUNNEL_BACKEND_MAINTENANCE;
    char error[256] = "";
    if (shared->backends->set_state(shared->backends_instance, b.address, state, error, sizeof error) != CHASSIS_OK)
        return luaL_error(L, "proxy.global.backends: %s", error);
    return 0;
}

static int backends_index(lua_State *L) {
    lua_Integer ndx = luaL_checkinteger(L, 2);
    if (ndx < 1 || (size_t)ndx > lg_list_backends(lg_state_of(L)->shared, NULL, MAX_BACKENDS)) return 0;
    int *b = lua_newuserdata(L, sizeof(int));
    *b = (int)ndx;
    luaL_getmetatable(L, "proxy.backend");
    lua_setmetatable(L, -2);
    return 1;
}

static int backends_len(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)lg_list_backends(lg_state_of(L)->shared, NULL, MAX_BACKENDS));
    return 1;
}

/* pool.users[name].cur_idle_connections: the funnel pools per user itself; scripts see 0. */
static int pool_user(lua_State *L) {
    lua_createtable(L, 0, 1);
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "cur_idle_connections");
    return 1;
}

void lg_open_backends(lua_State *L) {
    lg_new_type(L, "proxy.backend", backend_index, backend_newindex, NULL, NULL);
    lg_new_type(L, "proxy.backends", backends_index, NULL, backends_len, NULL);
    lua_newuserdata(L, 1);
    luaL_getmetatable(L, "proxy.backends");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, "lg.backends");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "lg.pools");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, pool_user);
    lua_setfield(L, -2, "__index");
    lua_setfield(L, LUA_REGISTRYINDEX, "lg.poolusers");
}
