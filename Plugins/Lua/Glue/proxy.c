/* proxy.c: the `proxy` table: constants, proxy.global, and the per-connection fields
 * (queries, connection, response) that resolve to the connection whose hook is running. */
#include <string.h>
#include "internal.h"

static const char state_key[] = "lg.state";

lg_state *lg_state_of(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, state_key);
    lg_state *state = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return state;
}

lg_conn *lg_current(lua_State *L) {
    lg_conn *conn = lg_state_of(L)->current;
    if (conn == NULL) luaL_error(L, "proxy: no connection (this is only available inside a hook or the script body)");
    return conn;
}

static int proxy_index(lua_State *L) {
    const char *key = lua_tostring(L, 2);
    if (key == NULL) return 0;
    if (strcmp(key, "queries") == 0) {
        lg_push_queries(L, lg_current(L));
    } else if (strcmp(key, "connection") == 0) {
        lg_push_connection(L, lg_current(L));
    } else if (strcmp(key, "response") == 0) {
        lg_conn *conn = lg_current(L);
        conn->response_touched = 1;   /* the script may fill it: reset before the next query */
        lua_rawgeti(L, LUA_REGISTRYINDEX, conn->response_ref);
    } else {
        return 0;
    }
    return 1;
}

static int proxy_newindex(lua_State *L) {
    const char *key = lua_tostring(L, 2);
    if (key != NULL && strcmp(key, "response") == 0) {
        lg_conn *conn = lg_current(L);
        luaL_checktype(L, 3, LUA_TTABLE);
        conn->response_touched = 1;
        lua_pushvalue(L, 3);
        lua_rawseti(L, LUA_REGISTRYINDEX, conn->response_ref);
        return 0;
    }
    if (key != NULL && (strcmp(key, "queries") == 0 || strcmp(key, "connection") == 0 || strcmp(key, "global") == 0))
        return luaL_error(L, "proxy.%s is read-only", key);
    lua_rawset(L, 1);
    return 0;
}

typedef struct constant {
    const char *name;
    int value;
} constant;

static const constant constants[] = {
    {"PROXY_SEND_QUERY", 1}, {"PROXY_SEND_RESULT", 2}, {"PROXY_IGNORE_RESULT", 4},
    {"PROXY_VERSION", 0x000805},
    {"MYSQLD_PACKET_OK", 0}, {"MYSQLD_PACKET_ERR", 255}, {"MYSQLD_PACKET_RAW", 250},
    {"BACKEND_STATE_UNKNOWN", 0}, {"BACKEND_STATE_UP", 1}, {"BACKEND_STATE_DOWN", 2},
    {"BACKEND_TYPE_UNKNOWN", 0}, {"BACKEND_TYPE_RW", 1}, {"BACKEND_TYPE_RO", 2},
    {"COM_SLEEP", 0}, {"COM_QUIT", 1}, {"COM_INIT_DB", 2}, {"COM_QUERY", 3}, {"COM_FIELD_LIST", 4},
    {"COM_CREATE_DB", 5}, {"COM_DROP_DB", 6}, {"COM_REFRESH", 7}, {"COM_SHUTDOWN", 8},
    {"COM_STATISTICS", 9}, {"COM_PROCESS_INFO", 10}, {"COM_CONNECT", 11}, {"COM_PROCESS_KILL", 12},
    {"COM_DEBUG", 13}, {"COM_PING", 14}, {"COM_TIME", 15}, {"COM_DELAYED_INSERT", 16},
    {"COM_CHANGE_USER", 17}, {"COM_BINLOG_DUMP", 18}, {"COM_TABLE_DUMP", 19}, {"COM_CONNECT_OUT", 20},
    {"COM_REGISTER_SLAVE", 21}, {"COM_STMT_PREPARE", 22}, {"COM_STMT_EXECUTE", 23},
    {"COM_STMT_SEND_LONG_DATA", 24}, {"COM_STMT_CLOSE", 25}, {"COM_STMT_RESET", 26},
    {"COM_SET_OPTION", 27}, {"COM_STMT_FETCH", 28}, {"COM_DAEMON", 29},
    {"MYSQL_TYPE_DECIMAL", 0}, {"MYSQL_TYPE_TINY", 1}, {"MYSQL_TYPE_SHORT", 2}, {"MYSQL_TYPE_LONG", 3},
    {"MYSQL_TYPE_FLOAT", 4}, {"MYSQL_TYPE_DOUBLE", 5}, {"MYSQL_TYPE_NULL", 6}, {"MYSQL_TYPE_TIMESTAMP", 7},
    {"MYSQL_TYPE_LONGLONG", 8}, {"MYSQL_TYPE_INT24", 9}, {"MYSQL_TYPE_DATE", 10}, {"MYSQL_TYPE_TIME", 11},
    {"MYSQL_TYPE_DATETIME", 12}, {"MYSQL_TYPE_YEAR", 13}, {"MYSQL_TYPE_NEWDATE", 14}, {"MYSQL_TYPE_BIT", 16},
    {"MYSQL_TYPE_NEWDECIMAL", 246}, {"MYSQL_TYPE_ENUM", 247}, {"MYSQL_TYPE_SET", 248},
    {"MYSQL_TYPE_TINY_BLOB", 249}, {"MYSQL_TYPE_MEDIUM_BLOB", 250}, {"MYSQL_TYPE_LONG_BLOB", 251},
    {"MYSQL_TYPE_BLOB", 252}, {"MYSQL_TYPE_VAR_STRING", 253}, {"MYSQL_TYPE_STRING", 254},
    {"MYSQL_TYPE_GEOMETRY", 255},
};

void lg_open_proxy(lua_State *L, lg_state *state) {
    lua_pushlightuserdata(L, state);
    lua_setfield(L, LUA_REGISTRYINDEX, state_key);

    lua_newtable(L);
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
        lua_pushinteger(L, constants[i].value);
        lua_setfield(L, -2, constants[i].name);
    }
    lg_push_global_root(L);
    lua_setfield(L, -2, "global");
    lua_newtable(L);
    lua_pushcfunction(L, proxy_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, proxy_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_GLOBALSINDEX, "proxy");
}

void lg_new_type(lua_State *L, const char *type, lua_CFunction index, lua_CFunction newindex, lua_CFunction len,
                 lua_CFunction gc) {
    luaL_newmetatable(L, type);
    lua_pushcfunction(L, index);
    lua_setfield(L, -2, "__index");
    if (newindex) {
        lua_pushcfunction(L, newindex);
        lua_setfield(L, -2, "__newindex");
    }
    if (len) {
        lua_pushcfunction(L, len);
        lua_setfield(L, -2, "__len");
    }
    if (gc) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
}
