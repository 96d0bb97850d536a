/* injection.c: the injection object read_query_result gets, and its resultset (fields, rows). */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef struct lg_inj {
    int64_t id;
    uint8_t *query;
    size_t query_length;
    int needed, forwarded;
    uint64_t query_time, response_time;
    /* The response packets, copied: the funnel's buffers live only during the call. */
    size_t packet_count;
    size_t *offsets, *lengths;
    uint8_t *data;
    /* What the packets (or, when forwarded, the funnel's summary) say. */
    int query_status;              /* 0, 255, or -1 unknown */
    int is_resultset;
    uint64_t row_count, bytes, affected_rows, insert_id;
    uint16_t warnings, status;
    size_t field_count, first_field, first_row, end_row;
} lg_inj;

/* ------------------------------------------------------------ reading packets */

typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static int read_lenenc(cursor *c, uint64_t *out) {
    if (c->p >= c->end) return -1;
    uint8_t first = *c->p++;
    int bytes = first < 0xFB ? 0 : first == 0xFC ? 2 : first == 0xFD ? 3 : first == 0xFE ? 8 : -1;
    if (bytes < 0) return -1;
    if (bytes == 0) {
        *out = first;
        return 0;
    }
    if (c->end - c->p < bytes) return -1;
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)c->p[i] << (8 * i);
    c->p += bytes;
    *out = v;
    return 0;
}

/* A length-encoded string; 0xFB (NULL) gives *data NULL. */
static int read_lenenc_string(cursor *c, const uint8_t **data, size_t *length) {
    if (c->p < c->end && *c->p == 0xFB) {
        c->p++;
        *data = NULL;
        *length = 0;
        return 0;
    }
    uint64_t n;
    if (read_lenenc(c, &n) != 0 || (uint64_t)(c->end - c->p) < n) return -1;
    *data = c->p;
    *length = (size_t)n;
    c->p += n;
    return 0;
}

static uint16_t read_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static cursor packet_cursor(const lg_inj *inj, size_t i) {
    const uint8_t *p = inj->data + inj->offsets[i];
    return (cursor){p, p + inj->lengths[i]};
}

static int is_eof(const lg_inj *inj, size_t i) {
    return inj->lengths[i] > 0 && inj->lengths[i] < 9 && inj->data[inj->offsets[i]] == 0xFE;
}

static void read_ok(lg_inj *inj) {
    cursor c = packet_cursor(inj, 0);
    c.p++;
    if (read_lenenc(&c, &inj->affected_rows) != 0 || read_lenenc(&c, &inj->insert_id) != 0) return;
    if (c.end - c.p >= 4) {
        inj->status = read_u16(c.p);
        inj->warnings = read_u16(c.p + 2);
    }
}

/* Finds where the fields and rows are; the rows themselves are decoded only when iterated. */
static void parse_layout(lg_inj *inj) {
    if (inj->packet_count == 0 || inj->lengths[0] == 0) return;
    uint8_t first = inj->data[inj->offsets[0]];
    if (first == 0x00) {
        inj->query_status = 0;
        read_ok(inj);
        return;
    }
    if (first == 0xFF) {
        inj->query_status = 255;
        return;
    }
    cursor c = packet_cursor(inj, 0);
    uint64_t columns;
    if (first == 0xFB || read_lenenc(&c, &columns) != 0) return;
    inj->is_resultset = 1;
    inj->query_status = 0;
    inj->field_count = (size_t)columns;
    inj->first_field = 1;
    size_t i = 1 + inj->field_count;
    if (i < inj->packet_count && is_eof(inj, i)) i++;
    inj->first_row = i;
    while (i < inj->packet_count && !is_eof(inj, i) && inj->data[inj->offsets[i]] != 0xFF) {
        inj->row_count++;
        inj->bytes += inj->lengths[i] + 4;
        i++;
    }
    inj->end_row = i;
    if (i < inj->packet_count && inj->data[inj->offsets[i]] == 0xFF) inj->query_status = 255;
    if (i < inj->packet_count && is_eof(inj, i) && inj->lengths[i] >= 5) {
        inj->warnings = read_u16(inj->data + inj->offsets[i] + 1);
        inj->status = read_u16(inj->data + inj->offsets[i] + 3);
    }
}

/* ------------------------------------------------------------ injection */

static lg_inj *check_inj(lua_State *L, int index) { return luaL_checkudata(L, index, "proxy.injection"); }

static int inj_gc(lua_State *L) {
    lg_inj *inj = check_inj(L, 1);
    free(inj->query);
    free(inj->offsets);
    free(inj->lengths);
    free(inj->data);
    return 0;
}

static void push_resultset(lua_State *L, int inj_index);

static int inj_index(lua_State *L) {
    lg_inj *inj = check_inj(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "id") == 0 || strcmp(key, "type") == 0) {
        lua_pushinteger(L, (lua_Integer)inj->id);
    } else if (strcmp(key, "query") == 0) {
        lua_pushlstring(L, (const char *)inj->query, inj->query_length);
    } else if (strcmp(key, "query_time") == 0) {
        lua_pushnumber(L, (lua_Number)inj->query_time);
    } else if (strcmp(key, "response_time") == 0) {
        lua_pushnumber(L, (lua_Number)inj->response_time);
    } else if (strcmp(key, "resultset") == 0) {
        push_resultset(L, 1);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

void lg_push_injection(lua_State *L, lg_query *query, const chassis_script_query_result *r) {
    lg_inj *inj = lua_newuserdata(L, sizeof *inj);
    memset(inj, 0, sizeof *inj);
    luaL_getmetatable(L, "proxy.injection");
    lua_setmetatable(L, -2);
    inj->id = query->packet ? query->id : r->id;
    inj->query = query->packet ? query->packet : lg_memdup(NULL, 0);
    inj->query_length = query->length;
    inj->needed = query->needed;
    inj->forwarded = r->forwarded;
    inj->query_time = r->query_time_us;
    inj->response_time = r->response_time_us;
    inj->query_status = -1;
    size_t total = 0;
    for (uint32_t i = 0; i < r->packet_count; i++) total += r->packets[i].length;
    inj->packet_count = r->packet_count;
    inj->offsets = malloc((r->packet_count + 1) * sizeof(size_t));
    inj->lengths = malloc((r->packet_count + 1) * sizeof(size_t));
    inj->data = malloc(total + 1);
    if (!inj->offsets || !inj->lengths || !inj->data) abort();
    size_t at = 0;
    for (uint32_t i = 0; i < r->packet_count; i++) {
        inj->offsets[i] = at;
        inj->lengths[i] = r->packets[i].length;
        if (r->packets[i].length > 0) memcpy(inj->data + at, r->packets[i].data, r->packets[i].length);
        at += r->packets[i].length;
    }
    if (r->packet_count > 0) {
        parse_layout(inj);
    } else {
        inj->query_status = r->query_status;
        inj->is_resultset = r->query_status == 0 && r->row_count > 0;
        inj->row_count = r->row_count;
        inj->bytes = r->bytes;
        inj->affected_rows = r->affected_rows;
        inj->insert_id = r->insert_id;
        inj->warnings = r->warning_count;
        inj->status = r->server_status;
    }
}

/* ------------------------------------------------------------ resultset */

/* The resultset and fields userdata hold the injection in their environment table. */
static lg_inj *owner(lua_State *L, int index) {
    lua_getfenv(L, index);
    lua_rawgeti(L, -1, 1);
    lg_inj *inj = lua_touserdata(L, -1);
    lua_pop(L, 2);
    return inj;
}

static void push_owned(lua_State *L, int inj_index, const char *type) {
    lua_newuserdata(L, 1);
    luaL_getmetatable(L, type);
    lua_setmetatable(L, -2);
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, inj_index);
    lua_rawseti(L, -2, 1);
    lua_setfenv(L, -2);
}

static void push_resultset(lua_State *L, int inj_index) { push_owned(L, inj_index, "proxy.resultset"); }

static void require_buffered(lua_State *L, lg_inj *inj, const char *key) {
    if (inj->forwarded || inj->packet_count == 0)
        luaL_error(L, ".resultset.%s isn't available if 'resultset_is_needed ~= true'", key);
}

static void push_field(lua_State *L, lg_inj *inj, size_t i) {
    cursor c = packet_cursor(inj, inj->first_field + i);
    static const char *const names[] = {"catalog", "db", "table", "org_table", "name", "org_name"};
    lua_createtable(L, 0, 8);
    for (int k = 0; k < 6; k++) {
        const uint8_t *data;
        size_t length;
        if (read_lenenc_string(&c, &data, &length) != 0) return;
        lua_pushlstring(L, data ? (const char *)data : "", length);
        lua_setfield(L, -2, names[k]);
    }
    uint64_t fixed;
    if (read_lenenc(&c, &fixed) != 0 || c.end - c.p < 10) return;
    lua_pushinteger(L, c.p[6]);
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, (lua_Integer)(c.p[2] | c.p[3] << 8 | c.p[4] << 16 | (uint32_t)c.p[5] << 24));
    lua_setfield(L, -2, "length");
    lua_pushinteger(L, read_u16(c.p + 7));
    lua_setfield(L, -2, "flags");
}

static int fields_index(lua_State *L) {
    lg_inj *inj = owner(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2);
    if (!inj->is_resultset || i < 1 || (size_t)i > inj->field_count || inj->first_field + (size_t)i > inj->packet_count)
        return 0;
    push_field(L, inj, (size_t)i - 1);
    return 1;
}

static int fields_len(lua_State *L) {
    lg_inj *inj = owner(L, 1);
    lua_pushinteger(L, inj->is_resultset ? (lua_Integer)inj->field_count : 0);
    return 1;
}

/* for row in res.rows do ... end: upvalues are the injection and the next packet index. */
static int rows_next(lua_State *L) {
    lg_inj *inj = lua_touserdata(L, lua_upvalueindex(1));
    size_t i = (size_t)lua_tointeger(L, lua_upvalueindex(2));
    if (i >= inj->end_row) return 0;
    lua_pushinteger(L, (lua_Integer)(i + 1));
    lua_replace(L, lua_upvalueindex(2));
    cursor c = packet_cursor(inj, i);
    lua_createtable(L, (int)inj->field_count, 0);
    for (size_t k = 0; k < inj->field_count; k++) {
        const uint8_t *data;
        size_t length;
        if (read_lenenc_string(&c, &data, &length) != 0) return luaL_error(L, "resultset.rows: malformed row");
        if (data == NULL) continue;
        lua_pushlstring(L, (const char *)data, length);
        lua_rawseti(L, -2, (int)k + 1);
    }
    return 1;
}

static void push_flags(lua_State *L, uint16_t status) {
    lua_createtable(L, 0, 4);
    lua_pushboolean(L, status & 0x0001);
    lua_setfield(L, -2, "in_trans");
    lua_pushboolean(L, status & 0x0002);
    lua_setfield(L, -2, "auto_commit");
    lua_pushboolean(L, status & 0x0010);
    lua_setfield(L, -2, "no_good_index_used");
    lua_pushboolean(L, status & 0x0020);
    lua_setfield(L, -2, "no_index_used");
}

static int resultset_index(lua_State *L) {
    lg_inj *inj = owner(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "fields") == 0) {
        require_buffered(L, inj, key);
        lua_getfenv(L, 1);
        lua_rawgeti(L, -1, 1);
        push_owned(L, lua_gettop(L), "proxy.fields");
    } else if (strcmp(key, "rows") == 0) {
        require_buffered(L, inj, key);
        if (inj->query_length > 0 && inj->query[0] == 23)
            return luaL_error(L, ".resultset.rows: results of prepared statements (binary rows) are not supported");
        if (!inj->is_resultset) return 0;
        lua_pushlightuserdata(L, inj);
        lua_pushinteger(L, (lua_Integer)inj->first_row);
        lua_pushcclosure(L, rows_next, 2);
        /* keep the injection alive as long as the iterator */
        lua_getfenv(L, 1);
        lua_setfenv(L, -2);
    } else if (strcmp(key, "raw") == 0) {
        require_buffered(L, inj, key);
        lua_pushlstring(L, (const char *)inj->data, inj->lengths[0]);
    } else if (strcmp(key, "row_count") == 0) {
        lua_pushnumber(L, (lua_Number)inj->row_count);
    } else if (strcmp(key, "bytes") == 0) {
        lua_pushnumber(L, (lua_Number)inj->bytes);
    } else if (strcmp(key, "query_status") == 0) {
        if (inj->query_status < 0) return 0;
        lua_pushinteger(L, inj->query_status);
    } else if (strcmp(key, "warning_count") == 0) {
        lua_pushinteger(L, inj->warnings);
    } else if (strcmp(key, "affected_rows") == 0 || strcmp(key, "insert_id") == 0) {
        if (inj->is_resultset || inj->query_status != 0) return 0;
        lua_pushnumber(L, (lua_Number)(key[0] == 'a' ? inj->affected_rows : inj->insert_id));
    } else if (strcmp(key, "flags") == 0) {
        push_flags(L, inj->status);
    } else {
        return 0;
    }
    return 1;
}

void lg_open_injection(lua_State *L) {
    lg_new_type(L, "proxy.injection", inj_index, NULL, NULL, inj_gc);
    lg_new_type(L, "proxy.resultset", resultset_index, NULL, NULL, NULL);
    lg_new_type(L, "proxy.fields", fields_index, NULL, fields_len, NULL);
}
