/* connection.c: proxy.connection, with its client and server sockets. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static lg_conn *check_conn(lua_State *L) {
    lg_conn_handle *h = luaL_checkudata(L, 1, "proxy.connection");
    if (h->conn == NULL) luaL_error(L, "proxy.connection: the connection is closed");
    return h->conn;
}

/* {name = "ip:port", address = "ip", port = n, type = AF_INET}; IPv6 as "[ip]:port". */
void lg_push_address(lua_State *L, const char *name) {
    lua_createtable(L, 0, 4);
    if (name == NULL) return;
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    const char *colon = strrchr(name, ':');
    const char *host = name;
    size_t host_length = colon ? (size_t)(colon - name) : strlen(name);
    if (host_length >= 2 && host[0] == '[' && host[host_length - 1] == ']') {
        host++;
        host_length -= 2;
    }
    lua_pushlstring(L, host, host_length);
    lua_setfield(L, -2, "address");
    if (colon != NULL) {
        lua_pushinteger(L, atoi(colon + 1));
        lua_setfield(L, -2, "port");
    }
    lua_pushinteger(L, memchr(host, ':', host_length) ? 10 : 2); /* AF_INET6 : AF_INET */
    lua_setfield(L, -2, "type");
}

/* "10.11.6-MariaDB" (or MariaDB's "5.5.5-10.11.6-MariaDB") gives 101106. */
static int version_number(const char *version) {
    if (version == NULL) return 0;
    if (strncmp(version, "5.5.5-", 6) == 0) version += 6;
    int major = 0, minor = 0, patch = 0;
    char *end;
    major = (int)strtol(version, &end, 10);
    if (*end == '.') minor = (int)strtol(end + 1, &end, 10);
    if (*end == '.') patch = (int)strtol(end + 1, &end, 10);
    return major * 10000 + minor * 100 + patch;
}

static void set_string(lua_State *L, const char *key, const char *value, size_t length) {
    if (value == NULL) return;
    lua_pushlstring(L, value, length);
    lua_setfield(L, -2, key);
}

static void push_client(lua_State *L, lg_conn *c) {
    lua_createtable(L, 0, 6);
    lg_push_address(L, c->client_src);
    lua_setfield(L, -2, "src");
    lg_push_address(L, c->client_dst);
    lua_setfield(L, -2, "dst");
    set_string(L, "default_db", c->default_db ? c->default_db : "", c->default_db ? strlen(c->default_db) : 0);
    if (c->username) set_string(L, "username", c->username, strlen(c->username));
    if (c->scrambled) set_string(L, "scrambled_password", (const char *)c->scrambled, c->scrambled_length);
    if (c->auth_plugin) set_string(L, "auth_plugin_name", c->auth_plugin, strlen(c->auth_plugin));
}

/* Before a backend is attached the client talks to the funnel: its connection id stands in. */
static void push_server(lua_State *L, lg_conn *c) {
    lua_createtable(L, 0, 8);
    lg_push_address(L, c->client_dst);
    lua_setfield(L, -2, "src");
    lg_push_address(L, c->server_dst);
    lua_setfield(L, -2, "dst");
    set_string(L, "default_db", c->default_db ? c->default_db : "", c->default_db ? strlen(c->default_db) : 0);
    if (c->username) set_string(L, "username", c->username, strlen(c->username));
    lua_pushinteger(L, c->has_server ? c->server_thread_id : c->connection_id);
    lua_setfield(L, -2, "thread_id");
    lua_pushinteger(L, version_number(c->server_version));
    lua_setfield(L, -2, "mysqld_version");
    if (c->scramble) set_string(L, "scramble_buffer", (const char *)c->scramble, c->scramble_length);
}

static int connection_index(lua_State *L) {
    lg_conn *c = check_conn(L);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "client") == 0) {
        push_client(L, c);
    } else if (strcmp(key, "server") == 0) {
        push_server(L, c);
    } else if (strcmp(key, "backend_ndx") == 0) {
        lua_pushinteger(L, c->backend_ndx >= 0 ? c->backend_ndx : c->server_backend_ndx);
    } else if (strcmp(key, "connection_close") == 0) {
        lua_pushboolean(L, c->connection_close);
    } else if (strcmp(key, "thread_id") == 0 || strcmp(key, "default_db") == 0 ||
               strcmp(key, "mysqld_version") == 0) {
        return luaL_error(L, "proxy.connection.%s is deprecated, use proxy.connection.server.%s", key, key);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int connection_newindex(lua_State *L) {
    lg_conn *c = check_conn(L);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "backend_ndx") == 0) {
        lua_Integer ndx = luaL_checkinteger(L, 3);
        if (ndx < 0) return luaL_argerror(L, 3, "backend_ndx must be 0 or a backend's 1-based index");
        c->backend_ndx = (int32_t)ndx;
        c->server_backend_ndx = (int32_t)ndx;
    } else if (strcmp(key, "connection_close") == 0) {
        c->connection_close = lua_toboolean(L, 3);
    } else {
        return luaL_error(L, "proxy.connection.%s is not writable", key);
    }
    return 0;
}

void lg_open_connection(lua_State *L) {
    lg_new_type(L, "proxy.connection", connection_index, connection_newindex, NULL, NULL);
}
