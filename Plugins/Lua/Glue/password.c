/* password.c: SHA-1 and the mysql.password module (mysql_native_password).
 *
 *   hash(password)                       SHA1(password), the "hashed password"
 *   scramble(challenge, hashed)          the client's auth response: hashed XOR SHA1(challenge .. SHA1(hashed))
 *   unscramble(challenge, response, double_hashed)   recovers hashed from a response
 *   check(challenge, response, double_hashed)        true when the response is right
 */
#include <string.h>
#include "internal.h"

static uint32_t rol(uint32_t x, int n) { return x << n | x >> (32 - n); }

static void sha1_block(uint32_t h[5], const uint8_t *p) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | p[4 * i + 1] << 16 | p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void lg_sha1(const uint8_t *data, size_t length, uint8_t out[20]) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t full = length / 64 * 64;
    for (size_t i = 0; i < full; i += 64) sha1_block(h, data + i);
    uint8_t tail[128] = {0};
    size_t rest = length - full;
    memcpy(tail, data + full, rest);
    tail[rest] = 0x80;
    size_t blocks = rest + 9 > 64 ? 2 : 1;
    uint64_t bits = (uint64_t)length * 8;
    for (int i = 0; i < 8; i++) tail[blocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (size_t i = 0; i < blocks; i++) sha1_block(h, tail + 64 * i);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

static int password_hash(lua_State *L) {
    size_t length;
    const char *password = luaL_checklstring(L, 1, &length);
    uint8_t out[20];
    lg_sha1((const uint8_t *)password, length, out);
    lua_pushlstring(L, (const char *)out, 20);
    return 1;
}

/* SHA1(challenge .. key), the mask both directions of the scramble use. */
static void mask(lua_State *L, const char *challenge, size_t challenge_length, const uint8_t key[20], uint8_t out[20]) {
    if (challenge_length > 20) challenge_length = 20;
    uint8_t buffer[40];
    memcpy(buffer, challenge, challenge_length);
    memcpy(buffer + challenge_length, key, 20);
    lg_sha1(buffer, challenge_length + 20, out);
    (void)L;
}

static const uint8_t *check20(lua_State *L, int index, const char *what) {
    size_t length;
    const char *s = luaL_checklstring(L, index, &length);
    if (length != 20) luaL_argerror(L, index, what);
    return (const uint8_t *)s;
}

static int password_scramble(lua_State *L) {
    size_t challenge_length;
    const char *challenge = luaL_checklstring(L, 1, &challenge_length);
    const uint8_t *hashed = check20(L, 2, "the hashed password is 20 bytes (password.hash)");
    uint8_t double_hashed[20], m[20], out[20];
    lg_sha1(hashed, 20, double_hashed);
    mask(L, challenge, challenge_length, double_hashed, m);
    for (int i = 0; i < 20; i++) out[i] = hashed[i] ^ m[i];
    lua_pushlstring(L, (const char *)out, 20);
    return 1;
}

static void unscramble(lua_State *L, uint8_t out[20]) {
    size_t challenge_length;
    const char *challenge = luaL_checklstring(L, 1, &challenge_length);
    const uint8_t *response = check20(L, 2, "the response is 20 bytes");
    const uint8_t *double_hashed = check20(L, 3, "the double-hashed password is 20 bytes");
    uint8_t m[20];
    mask(L, challenge, challenge_length, double_hashed, m);
    for (int i = 0; i < 20; i++) out[i] = response[i] ^ m[i];
}

static int password_unscramble(lua_State *L) {
    uint8_t out[20];
    unscramble(L, out);
    lua_pushlstring(L, (const char *)out, 20);
    return 1;
}

static int password_check(lua_State *L) {
    uint8_t hashed[20], again[20];
    unscramble(L, hashed);
    lg_sha1(hashed, 20, again);
    lua_pushboolean(L, memcmp(again, lua_tostring(L, 3), 20) == 0);
    return 1;
}

int lg_open_password(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"hash", password_hash}, {"scramble", password_scramble},
        {"unscramble", password_unscramble}, {"check", password_check}, {NULL, NULL},
    };
    lua_newtable(L);
    luaL_register(L, NULL, functions);
    return 1;
}
