/* response.c: reads proxy.response out of Lua; the Swift side encodes it with MySQLWire. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static const char handling_failed[] = "(lua) handling proxy.response failed, check error-log";

void lg_error_response(lg_conn *conn, lg_response *out, const char *message) {
    memset(out, 0, sizeof *out);
    out->type = 255;
    out->errcode = 1105;
    memcpy(out->sqlstate, "07000", 6);
    out->errmsg = (lg_text){lg_arena_copy(&conn->arena, message, strlen(message)), strlen(message)};
}

/* A value as SQL text: strings and numbers as tostring() gives them, nil as SQL NULL. */
static lg_text cell(lua_State *L, lg_conn *conn, int index) {
    switch (lua_type(L, index)) {
    case LUA_TNIL:
        return (lg_text){NULL, 0};
    case LUA_TBOOLEAN:
        return lua_toboolean(L, index) ? (lg_text){"true", 4} : (lg_text){"false", 5};
    case LUA_TNUMBER:
    case LUA_TSTRING: {
        size_t length;
        lua_pushvalue(L, index);
        const char *s = lua_tolstring(L, -1, &length);
        lg_text text = {lg_arena_copy(&conn->arena, s, length), length};
        lua_pop(L, 1);
        return text;
    }
    default: {
        lua_getglobal(L, "tostring");
        lua_pushvalue(L, index);
        lua_call(L, 1, 1);
        size_t length;
        const char *s = lua_tolstring(L, -1, &length);
        lg_text text = {lg_arena_copy(&conn->arena, s ? s : "", s ? length : 0), s ? length : 0};
        lua_pop(L, 1);
        return text;
    }
    }
}

static uint64_t field_number(lua_State *L, int table, const char *key, uint64_t fallback) {
    lua_getfield(L, table, key);
    uint64_t value = lua_isnumber(L, -1) ? (uint64_t)lua_tonumber(L, -1) : fallback;
    lua_pop(L, 1);
    return value;
}

static int read_resultset(lua_State *L, lg_conn *conn, int resultset, lg_response *out) {
    lg_shared *shared = conn->state->shared;
    lua_getfield(L, resultset, "fields");
    if (!lua_istable(L, -1)) {
        lg_log(shared, CHASSIS_LOG_ERROR, "proxy.response.resultset.fields is not a table");
        return -1;
    }
    int fields = lua_gettop(L);
    size_t count = lua_objlen(L, fields);
    lg_text *names = lg_arena_alloc(&conn->arena, (count + 1) * sizeof *names);
    uint8_t *types = lg_arena_alloc(&conn->arena, count + 1);
    for (size_t i = 0; i < count; i++) {
        lua_rawgeti(L, fields, (int)i + 1);
        if (!lua_istable(L, -1)) {
            lg_log(shared, CHASSIS_LOG_ERROR, "proxy.response.resultset.fields[%zu] is not a table", i + 1);
            return -1;
        }
        lua_getfield(L, -1, "name");
        names[i] = cell(L, conn, -1);
        if (names[i].data == NULL) names[i] = (lg_text){"", 0};
        lua_pop(L, 1);
        lua_getfield(L, -1, "type");
        if (lua_isnumber(L, -1)) {
            types[i] = (uint8_t)lua_tointeger(L, -1);
        } else {
            lg_log(shared, CHASSIS_LOG_WARNING, "proxy.response.resultset.fields[%zu].type is not set, using MYSQL_TYPE_STRING",
                   i + 1);
            types[i] = 254;
        }
        lua_pop(L, 2);
    }
    lua_getfield(L, resultset, "rows");
    int rows = lua_gettop(L);
    size_t row_count = lua_istable(L, rows) ? lua_objlen(L, rows) : 0;
    lg_text *cells = lg_arena_alloc(&conn->arena, (row_count * count + 1) * sizeof *cells);
    for (size_t r = 0; r < row_count; r++) {
        lua_rawgeti(L, rows, (int)r + 1);
        if (!lua_istable(L, -1)) {
            lg_log(shared, CHASSIS_LOG_ERROR, "proxy.response.resultset.rows[%zu] is not a table", r + 1);
            return -1;
        }
        for (size_t c = 0; c < count; c++) {
            lua_rawgeti(L, -1, (int)c + 1);
            cells[r * count + c] = cell(L, conn, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    out->has_resultset = 1;
    out->field_count = (uint32_t)count;
    out->field_names = names;
    out->field_types = types;
    out->row_count = (uint32_t)row_count;
    out->cells = cells;
    return 0;
}

static int read_packets(lua_State *L, lg_conn *conn, int response, lg_response *out) {
    lua_getfield(L, response, "packets");
    if (!lua_istable(L, -1)) {
        lg_log(conn->state->shared, CHASSIS_LOG_ERROR, "proxy.response.packets is not a table");
        return -1;
    }
    size_t count = lua_objlen(L, -1);
    lg_text *packets = lg_arena_alloc(&conn->arena, (count + 1) * sizeof *packets);
    for (size_t i = 0; i < count; i++) {
        lua_rawgeti(L, -1, (int)i + 1);
        size_t length;
        const char *s = lua_tolstring(L, -1, &length);
        if (s == NULL) {
            lg_log(conn->state->shared, CHASSIS_LOG_ERROR, "proxy.response.packets[%zu] is not a string", i + 1);
            return -1;
        }
        packets[i] = (lg_text){lg_arena_copy(&conn->arena, s, length), length};
        lua_pop(L, 1);
    }
    out->packet_count = (uint32_t)count;
    out->packets = packets;
    return 0;
}

static int read_error(lua_State *L, lg_conn *conn, int response, lg_response *out) {
    lua_getfield(L, response, "errmsg");
    out->errmsg = cell(L, conn, -1);
    if (out->errmsg.data == NULL) out->errmsg = (lg_text){"(lua) proxy.response.errmsg is nil", 34};
    lua_getfield(L, response, "errcode");
    out->errcode = lua_isnumber(L, -1) ? (uint32_t)lua_tonumber(L, -1) : 1105;
    lua_getfield(L, response, "sqlstate");
    const char *sqlstate = lua_tostring(L, -1);
    memcpy(out->sqlstate, "07000", 6);
    if (sqlstate != NULL && strlen(sqlstate) == 5) memcpy(out->sqlstate, sqlstate, 6);
    lua_pop(L, 3);
    return 0;
}

int lg_read_response(lua_State *L, lg_conn *conn, lg_response *out) {
    int response = lua_gettop(L);
    memset(out, 0, sizeof *out);
    int rc = -1;
    if (lua_istable(L, response)) {
        lua_getfield(L, response, "type");
        int has_type = lua_isnumber(L, -1);
        out->type = has_type ? (int32_t)lua_tointeger(L, -1) : -1;
        lua_pop(L, 1);
        switch (out->type) {
        case 0:
            out->affected_rows = field_number(L, response, "affected_rows", 0);
            out->insert_id = field_number(L, response, "insert_id", 0);
            lua_getfield(L, response, "resultset");
            rc = lua_istable(L, -1) ? read_resultset(L, conn, lua_gettop(L), out) : 0;
            break;
        case 255:
            rc = read_error(L, conn, response, out);
            break;
        case 250:
            rc = read_packets(L, conn, response, out);
            break;
        default:
            lg_log(conn->state->shared, CHASSIS_LOG_ERROR, "proxy.response.type is %s, not MYSQLD_PACKET_OK, _ERR or _RAW",
                   has_type ? "unknown" : "missing");
        }
    }
    lua_settop(L, response - 1);
    if (rc != 0) lg_error_response(conn, out, handling_failed);
    return rc;
}
