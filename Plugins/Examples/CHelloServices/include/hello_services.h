/* The two example services, shared by the Swift plugin `hello` and the C plugin `hello-c`:
 * each registers one and calls the other's, to show the ABI does not care about language. */
#ifndef HELLO_SERVICES_H
#define HELLO_SERVICES_H
#include <stddef.h>
#include <stdint.h>

/* "hello.greeter" version 1, registered by the Swift plugin. */
typedef struct hello_greeter_service {
    uint32_t size;
    /* Writes "<greeting>, <who>!" into out (NUL-terminated); returns 0, or 1 if it did not fit. */
    int (*greet)(void *instance, const char *who, char *out, size_t out_size);
} hello_greeter_service;

/* "hello.counter" version 1, registered by the C plugin. */
typedef struct hello_counter_service {
    uint32_t size;
    uint64_t (*increment)(void *instance, uint64_t by);
    uint64_t (*value)(void *instance);
} hello_counter_service;

#endif
