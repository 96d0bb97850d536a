/* global.c: proxy.global, one set of tables shared by every connection on every thread.
 *
 * The tables live in a Lua state of their own (shared->G) that never runs script code, behind
 * shared->lock. A script sees proxy.global and every table in it as a userdata naming a path
 * from the root ("config", "rwsplit"); reading a key copies a nil, boolean, number or string out,
 * or gives another path userdata for a table; writing copies the value in (tables deeply). So
 * `proxy.global.config.x.n = proxy.global.config.x.n + 1` works across threads, each step atomic
 * on its own (a read-modify-write of one key is not). pairs() and ipairs() iterate a snapshot.
 *
 * Nothing here raises while it holds the lock: G's work runs under lua_cpcall and its errors are
 * raised in the script's state after the unlock.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define GLOBAL_TYPE "proxy.global"
#define MAX_DEPTH 32

typedef struct g_value {
    int type;                      /* LUA_T*; LUA_TTABLE: a table is there */
    lua_Number number;
    char *string;
    size_t length;
} g_value;

typedef struct g_op {
    lg_shared *shared;
    lua_State *L;
    int path;                      /* index in L of the path table */
    int key;                       /* index in L of the key */
    int value;                     /* index in L of the value to store */
    g_value result;
    g_value *keys, *values;        /* snapshot */
    size_t count;
    int gone;                      /* the path no longer leads to a table */
    char error[256];
} g_op;

static lg_shared *shared_of(lua_State *L) { return lg_state_of(L)->shared; }

/* ------------------------------------------------------------ inside G (under the lock) */

static void push_scalar(lua_State *from, int index, lua_State *G) {
    switch (lua_type(from, index)) {
    case LUA_TBOOLEAN: lua_pushboolean(G, lua_toboolean(from, index)); break;
    case LUA_TNUMBER: lua_pushnumber(G, lua_tonumber(from, index)); break;
    case LUA_TSTRING: {
        size_t length;
        const char *s = lua_tolstring(from, index, &length);
        lua_pushlstring(G, s, length);
        break;
    }
    default: lua_pushnil(G);
    }
}

/* Leaves the table at op->path on G's stack, or returns 0 (nothing pushed) when it is gone. */
static int walk(lua_State *G, g_op *op, lg_shared *shared) {
    lua_rawgeti(G, LUA_REGISTRYINDEX, shared->root_ref);
    size_t depth = lua_objlen(op->L, op->path);
    for (size_t i = 1; i <= depth; i++) {
        lua_rawgeti(op->L, op->path, (int)i);
        push_scalar(op->L, -1, G);
        lua_pop(op->L, 1);
        lua_rawget(G, -2);
        lua_remove(G, -2);
        if (!lua_istable(G, -1)) {
            lua_pop(G, 1);
            op->gone = 1;
            return 0;
        }
    }
    return 1;
}

static int is_global(lua_State *L, int index) {
    if (lua_type(L, index) != LUA_TUSERDATA || !lua_getmetatable(L, index)) return 0;
    luaL_getmetatable(L, GLOBAL_TYPE);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

static void copy_g_table(lua_State *G, int index, int depth) {
    if (depth > MAX_DEPTH) luaL_error(G, "proxy.global: tables nested too deep (or a cycle)");
    index = index < 0 ? lua_gettop(G) + index + 1 : index;
    lua_newtable(G);
    lua_pushnil(G);
    while (lua_next(G, index) != 0) {
        lua_pushvalue(G, -2);
        if (lua_istable(G, -2)) copy_g_table(G, -2, depth + 1);
        else lua_pushvalue(G, -2);
        lua_rawset(G, -5);
        lua_pop(G, 1);
    }
}

/* Pushes onto G a copy of the script's value at `index`. */
static void push_copy(lua_State *L, int index, lua_State *G, lg_shared *shared, int depth) {
    if (depth > MAX_DEPTH) luaL_error(G, "proxy.global: tables nested too deep (or a cycle)");
    int type = lua_type(L, index);
    if (type == LUA_TTABLE) {
        lua_newtable(G);
        lua_pushnil(L);
        while (lua_next(L, index) != 0) {
            int key_type = lua_type(L, -2);
            if (key_type != LUA_TSTRING && key_type != LUA_TNUMBER && key_type != LUA_TBOOLEAN)
                luaL_error(G, "proxy.global: table keys must be strings, numbers or booleans");
            push_scalar(L, -2, G);
            push_copy(L, lua_gettop(L), G, shared, depth + 1);
            lua_rawset(G, -3);
            lua_pop(L, 1);
        }
    } else if (is_global(L, index)) {
        lua_getfenv(L, index);
        g_op other = {.L = L, .path = lua_gettop(L)};
        int found = walk(G, &other, shared);
        lua_pop(L, 1);
        if (!found) luaL_error(G, "proxy.global: the table being copied was removed");
        copy_g_table(G, -1, depth);
        lua_remove(G, -2);
    } else if (type == LUA_TNIL || type == LUA_TBOOLEAN || type == LUA_TNUMBER || type == LUA_TSTRING) {
        push_scalar(L, index, G);
    } else {
        luaL_error(G, "proxy.global holds nil, booleans, numbers, strings and tables, not a %s", lua_typename(L, type));
    }
}

static void take_value(lua_State *G, int index, g_value *out) {
    out->type = lua_type(G, index);
    if (out->type == LUA_TNUMBER || out->type == LUA_TBOOLEAN) {
        out->number = out->type == LUA_TNUMBER ? lua_tonumber(G, index) : lua_toboolean(G, index);
    } else if (out->type == LUA_TSTRING) {
        const char *s = lua_tolstring(G, index, &out->length);
        out->string = lg_memdup(s, out->length);
    } else if (out->type != LUA_TTABLE) {
        out->type = LUA_TNIL;
    }
}

static int g_get(lua_State *G) {
    g_op *op = lua_touserdata(G, 1);
    lg_shared *shared = op->shared;
    if (!walk(G, op, shared)) return 0;
    push_scalar(op->L, op->key, G);
    lua_rawget(G, -2);
    take_value(G, -1, &op->result);
    return 0;
}

static int g_set(lua_State *G) {
    g_op *op = lua_touserdata(G, 1);
    lg_shared *shared = op->shared;
    if (!walk(G, op, shared)) return 0;
    push_scalar(op->L, op->key, G);
    push_copy(op->L, op->value, G, shared, 0);
    lua_rawset(G, -3);
    return 0;
}

static int g_snapshot(lua_State *G) {
    g_op *op = lua_touserdata(G, 1);
    lg_shared *shared = op->shared;
    if (!walk(G, op, shared)) return 0;
    size_t capacity = 16;
    op->keys = malloc(capacity * sizeof *op->keys);
    op->values = malloc(capacity * sizeof *op->values);
    lua_pushnil(G);
    while (lua_next(G, -2) != 0) {
        if (op->count == capacity) {
            capacity *= 2;
            op->keys = realloc(op->keys, capacity * sizeof *op->keys);
            op->values = realloc(op->values, capacity * sizeof *op->values);
        }
        memset(&op->keys[op->count], 0, sizeof(g_value));
        memset(&op->values[op->count], 0, sizeof(g_value));
        take_value(G, -2, &op->keys[op->count]);
        take_value(G, -1, &op->values[op->count]);
        op->count++;
        lua_pop(G, 1);
    }
    return 0;
}

/* Runs fn on G under the lock; returns 0, or -1 with op->error set. */
static int run(lua_State *L, lg_shared *shared, lua_CFunction fn, g_op *op) {
    luaL_checkstack(L, 2 * MAX_DEPTH + 16, "proxy.global");
    pthread_mutex_lock(&shared->lock);
    int top = lua_gettop(L);
    op->shared = shared;
    int rc = lua_cpcall(shared->G, fn, op);
    if (rc != 0) {
        const char *message = lua_tostring(shared->G, -1);
        strncpy(op->error, message ? message : "proxy.global: out of memory", sizeof op->error - 1);
    }
    lua_settop(shared->G, 0);
    lua_settop(L, top);
    pthread_mutex_unlock(&shared->lock);
    return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ in the script's state */

/* A path userdata for the table at path[1..n] .. key (key 0: the path itself). */
static void push_table(lua_State *L, int path, int key) {
    lua_newuserdata(L, 1);
    luaL_getmetatable(L, GLOBAL_TYPE);
    lua_setmetatable(L, -2);
    size_t depth = path ? lua_objlen(L, path) : 0;
    lua_createtable(L, (int)depth + 1, 0);
    for (size_t i = 1; i <= depth; i++) {
        lua_rawgeti(L, path, (int)i);
        lua_rawseti(L, -2, (int)i);
    }
    if (key) {
        lua_pushvalue(L, key);
        lua_rawseti(L, -2, (int)depth + 1);
    }
    lua_setfenv(L, -2);
}

void lg_push_global_root(lua_State *L) { push_table(L, 0, 0); }

static void push_value(lua_State *L, g_value *v, int path, int key) {
    switch (v->type) {
    case LUA_TBOOLEAN: lua_pushboolean(L, v->number != 0); break;
    case LUA_TNUMBER: lua_pushnumber(L, v->number); break;
    case LUA_TSTRING:
        lua_pushlstring(L, v->string, v->length);
        free(v->string);
        v->string = NULL;
        break;
    case LUA_TTABLE: push_table(L, path, key); break;
    default: lua_pushnil(L);
    }
}

static void check_key(lua_State *L, int index) {
    int type = lua_type(L, index);
    if (type != LUA_TSTRING && type != LUA_TNUMBER && type != LUA_TBOOLEAN)
        luaL_argerror(L, index, "proxy.global keys are strings, numbers or booleans");
}

static int is_root_backends(lua_State *L) {
    return lua_objlen(L, -1) == 0 && lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "backends") == 0;
}

static int global_index(lua_State *L) {
    check_key(L, 2);
    lua_getfenv(L, 1);
    if (is_root_backends(L)) {
        lua_getfield(L, LUA_REGISTRYINDEX, "lg.backends");
        return 1;
    }
    int path = lua_gettop(L);
    g_op op = {.L = L, .path = path, .key = 2};
    if (run(L, shared_of(L), g_get, &op) != 0) return luaL_error(L, "%s", op.error);
    push_value(L, &op.result, path, 2);
    return 1;
}

static int global_newindex(lua_State *L) {
    check_key(L, 2);
    lua_getfenv(L, 1);
    if (is_root_backends(L)) return luaL_error(L, "proxy.global.backends is read-only");
    g_op op = {.L = L, .path = lua_gettop(L), .key = 2, .value = 3};
    if (run(L, shared_of(L), g_set, &op) != 0) return luaL_error(L, "%s", op.error);
    if (op.gone) return luaL_error(L, "proxy.global: the table being written to was removed");
    return 0;
}

/* A plain table with the current contents, tables in it as path userdata. */
static void push_snapshot(lua_State *L, int index) {
    lua_getfenv(L, index);
    int path = lua_gettop(L);
    g_op op = {.L = L, .path = path};
    if (run(L, shared_of(L), g_snapshot, &op) != 0) luaL_error(L, "%s", op.error);
    lua_createtable(L, 0, (int)op.count);
    for (size_t i = 0; i < op.count; i++) {
        push_value(L, &op.keys[i], 0, 0);
        push_value(L, &op.values[i], path, lua_gettop(L));
        lua_rawset(L, -3);
    }
    free(op.keys);
    free(op.values);
    lua_remove(L, path);
}

static int global_len(lua_State *L) {
    push_snapshot(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_objlen(L, -1));
    return 1;
}

/* pairs/ipairs: over a snapshot for proxy.global's tables, the originals otherwise. */
static int iterate(lua_State *L) {
    if (!is_global(L, 1)) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
        return lua_gettop(L);
    }
    push_snapshot(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, -2);
    lua_call(L, 1, 3);
    return 3;
}

static void wrap_iterator(lua_State *L, const char *name) {
    lua_getglobal(L, name);
    lua_pushcclosure(L, iterate, 1);
    lua_setglobal(L, name);
}

void lg_open_global(lua_State *L) {
    lg_new_type(L, GLOBAL_TYPE, global_index, global_newindex, global_len, NULL);
    wrap_iterator(L, "pairs");
    wrap_iterator(L, "ipairs");
}

static int init_root(lua_State *G) {
    lg_shared *shared = lua_touserdata(G, 1);
    lua_newtable(G);
    lua_newtable(G);
    lua_setfield(G, -2, "config");
    shared->root_ref = luaL_ref(G, LUA_REGISTRYINDEX);
    return 0;
}

int lg_shared_init(lg_shared *shared) {
    shared->G = luaL_newstate();
    if (shared->G == NULL) return -1;
    if (lua_cpcall(shared->G, init_root, shared) != 0) {
        lua_close(shared->G);
        return -1;
    }
    return 0;
}
