/* modules.c: the helper modules scripts require, registered in package.preload. The Lua ones
 * are the files under modules/, compiled into the library with #embed. */
#include "internal.h"

#pragma clang diagnostic ignored "-Wc23-extensions"

int lg_open_password(lua_State *L);
int lg_open_chassis(lua_State *L);

static const char proto_lua[] = {
#embed "modules/mysql/proto.lua"
    , 0};
static const char mysql_tokenizer_lua[] = {
#embed "modules/mysql/tokenizer.lua"
    , 0};
static const char proxy_tokenizer_lua[] = {
#embed "modules/proxy/tokenizer.lua"
    , 0};
static const char commands_lua[] = {
#embed "modules/proxy/commands.lua"
    , 0};
static const char balance_lua[] = {
#embed "modules/proxy/balance.lua"
    , 0};
static const char auto_config_lua[] = {
#embed "modules/proxy/auto-config.lua"
    , 0};

static const struct {
    const char *name;
    const char *source;
} lua_modules[] = {
    {"mysql.proto", proto_lua},
    {"mysql.tokenizer", mysql_tokenizer_lua},
    {"proxy.tokenizer", proxy_tokenizer_lua},
    {"proxy.commands", commands_lua},
    {"proxy.balance", balance_lua},
    {"proxy.auto-config", auto_config_lua},
};

/* package.preload[name]: upvalue 1 is the source, 2 the chunk name. */
static int load_embedded(lua_State *L) {
    size_t length;
    const char *source = lua_tolstring(L, lua_upvalueindex(1), &length);
    if (luaL_loadbuffer(L, source, length, lua_tostring(L, lua_upvalueindex(2))) != 0) return lua_error(L);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

void lg_open_modules(lua_State *L) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    for (size_t i = 0; i < sizeof lua_modules / sizeof lua_modules[0]; i++) {
        lua_pushstring(L, lua_modules[i].source);
        lua_pushfstring(L, "=%s", lua_modules[i].name);
        lua_pushcclosure(L, load_embedded, 2);
        lua_setfield(L, -2, lua_modules[i].name);
    }
    lua_pushcfunction(L, lg_open_password);
    lua_setfield(L, -2, "mysql.password");
    lua_pushcfunction(L, lg_open_chassis);
    lua_setfield(L, -2, "chassis");
    lua_pop(L, 2);
}
