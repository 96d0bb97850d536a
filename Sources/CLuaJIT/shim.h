/* LuaJIT 2.1 (Debian libluajit2-5.1-dev): the Lua 5.1 C API and the standard libraries.
 * pkg-config luajit gives the include folder and the library to link. */
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
