/* chassis_module.c: require("chassis"): logging into the chassis log, as MySQL Proxy's module.
 * Requiring it moves print to os.print and makes print log at the message (info) level. */
#include <string.h>
#include "internal.h"

static int log_at(lua_State *L, int level, int message_index) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int top = lua_gettop(L);
    for (int i = message_index; i <= top; i++) {
        lua_getglobal(L, "tostring");
        lua_pushvalue(L, i);
        lua_call(L, 1, 1);
        luaL_addvalue(&b);
        if (i < top) luaL_addchar(&b, '\t');
    }
    luaL_pushresult(&b);
    lg_log(lg_state_of(L)->shared, level, "%s", lua_tostring(L, -1));
    return 0;
}

static int level_of(const char *name) {
    static const struct { const char *name; int level; } levels[] = {
        {"debug", CHASSIS_LOG_DEBUG}, {"info", CHASSIS_LOG_INFO}, {"message", CHASSIS_LOG_INFO},
        {"warning", CHASSIS_LOG_WARNING}, {"error", CHASSIS_LOG_ERROR}, {"critical", CHASSIS_LOG_CRITICAL},
    };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(levels[i].name, name) == 0) return levels[i].level;
    return -1;
}

static int chassis_log(lua_State *L) {
    int level = level_of(luaL_checkstring(L, 1));
    if (level < 0) return luaL_argerror(L, 1, "debug, info, message, warning, error or critical");
    return log_at(L, level, 2);
}

static int chassis_level(lua_State *L) { return log_at(L, (int)lua_tointeger(L, lua_upvalueindex(1)), 1); }

static int chassis_set_shutdown(lua_State *L) {
    lg_log(lg_state_of(L)->shared, CHASSIS_LOG_WARNING, "chassis.set_shutdown() is ignored: stop the chassis with SIGTERM");
    return 0;
}

static int chassis_get_stats(lua_State *L) {
    lua_newtable(L);
    return 1;
}

int lg_open_chassis(lua_State *L) {
    static const char *const names[] = {"debug", "info", "message", "warning", "error", "critical"};
    lua_newtable(L);
    lua_pushcfunction(L, chassis_log);
    lua_setfield(L, -2, "log");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        lua_pushinteger(L, level_of(names[i]));
        lua_pushcclosure(L, chassis_level, 1);
        lua_setfield(L, -2, names[i]);
    }
    lua_pushcfunction(L, chassis_set_shutdown);
    lua_setfield(L, -2, "set_shutdown");
    lua_pushcfunction(L, chassis_get_stats);
    lua_setfield(L, -2, "get_stats");
    /* print logs from now on; the original stays reachable as os.print */
    lua_getglobal(L, "os");
    lua_getglobal(L, "print");
    lua_setfield(L, -2, "print");
    lua_pop(L, 1);
    lua_pushinteger(L, CHASSIS_LOG_INFO);
    lua_pushcclosure(L, chassis_level, 1);
    lua_setglobal(L, "print");
    return 1;
}
