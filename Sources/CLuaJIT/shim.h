/* LuaJIT 2.1 (Debian libluajit2-5.1-dev): the Lua 5.1 C API and the standard libraries. */
#include <luajit-2.1/lua.h>
#include <luajit-2.1/lauxlib.h>
#include <luajit-2.1/lualib.h>
