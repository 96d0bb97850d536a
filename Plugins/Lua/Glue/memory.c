/* memory.c: the per-call arena, copies, the clock and logging. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"

struct lg_arena_block {
    lg_arena_block *next;
    size_t used, capacity;
    max_align_t data[];
};

void *lg_arena_alloc(lg_arena *arena, size_t size) {
    size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    lg_arena_block *block = arena->head;
    if (block == NULL || block->capacity - block->used < size) {
        size_t capacity = size > 16384 ? size : 16384;
        block = malloc(sizeof(lg_arena_block) + capacity);
        if (block == NULL) abort();
        block->used = 0;
        block->capacity = capacity;
        block->next = arena->head;
        arena->head = block;
    }
    void *p = (char *)block->data + block->used;
    block->used += size;
    return p;
}

const char *lg_arena_copy(lg_arena *arena, const void *data, size_t length) {
    char *p = lg_arena_alloc(arena, length + 1);
    if (length > 0) memcpy(p, data, length);
    p[length] = 0;
    return p;
}

/* Keeps the newest block for the next call: most calls then allocate nothing. */
void lg_arena_reset(lg_arena *arena) {
    lg_arena_block *block = arena->head;
    if (block == NULL) return;
    lg_arena_block *rest = block->next;
    while (rest != NULL) {
        lg_arena_block *next = rest->next;
        free(rest);
        rest = next;
    }
    block->next = NULL;
    block->used = 0;
}

char *lg_strdup(const char *s) { return s == NULL ? NULL : strdup(s); }

void *lg_memdup(const void *data, size_t length) {
    void *p = malloc(length > 0 ? length : 1);
    if (p == NULL) abort();
    if (length > 0) memcpy(p, data, length);
    return p;
}

uint64_t lg_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void lg_log(lg_shared *shared, int level, const char *fmt, ...) {
    char message[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    shared->log(shared->log_user, level, message);
}
