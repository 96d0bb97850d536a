/* Fixture plugins for the failure matrix: one source, built once per FIXTURE_* variant by
 * the integration tests (cc -DFIXTURE_x). Each logs its lifecycle so the tests can check
 * exactly which callbacks ran, in which order. */
#include <chassis.h>
#include <stdio.h>
#include <string.h>

#ifndef FIXTURE_NAME
#error "FIXTURE_NAME must be defined"
#endif

static void say(chassis_context *ctx, const char *what) {
    char line[128];
    snprintf(line, sizeof line, "lifecycle %s %s", FIXTURE_NAME, what);
    ctx->api->log(ctx->self, CHASSIS_LOG_INFO, line);
}

#ifdef FIXTURE_UNDEFINED_SYMBOL
extern int chassis_fixture_symbol_nobody_defines(void);
#endif

static int fixture_init(chassis_context *ctx) {
#ifdef FIXTURE_UNDEFINED_SYMBOL
    if (chassis_fixture_symbol_nobody_defines() != 0) return CHASSIS_ERR;
#endif
#ifdef FIXTURE_INIT_FAILS
    ctx->api->set_error(ctx->self, "the fixture's init fails on purpose");
    return CHASSIS_ERR;
#endif
    say(ctx, "init");
#ifdef FIXTURE_REGISTERS
    chassis_service service = { sizeof(chassis_service), FIXTURE_REGISTERS, 1, &service, NULL };
    static const uint32_t table = sizeof(uint32_t);
    service.vtable = &table;
    if (ctx->api->register_service(ctx->self, &service) != CHASSIS_OK) {
        ctx->api->set_error(ctx->self, "cannot register service " FIXTURE_REGISTERS);
        return CHASSIS_ERR;
    }
#endif
    return CHASSIS_OK;
}

static int fixture_start(chassis_context *ctx) {
    say(ctx, "start");
#ifdef FIXTURE_START_FAILS
    ctx->api->set_error(ctx->self, "the fixture's start fails on purpose");
    return CHASSIS_ERR;
#endif
    return CHASSIS_OK;
}

static void fixture_stop(chassis_context *ctx) { say(ctx, "stop"); }
static void fixture_deinit(chassis_context *ctx) { say(ctx, "deinit"); }

#ifdef FIXTURE_REQUIRES
static const chassis_dependency required = { sizeof(chassis_dependency), FIXTURE_REQUIRES, FIXTURE_REQUIRES_VERSION };
static const chassis_dependency *const requires_list[] = { &required, NULL };
#endif
#ifdef FIXTURE_PROVIDES
static const chassis_dependency provided = { sizeof(chassis_dependency), FIXTURE_PROVIDES, 1 };
static const chassis_dependency *const provides_list[] = { &provided, NULL };
#endif

#ifndef FIXTURE_ABI_MAJOR
#define FIXTURE_ABI_MAJOR CHASSIS_ABI_MAJOR
#endif
#ifndef FIXTURE_ABI_MINOR
#define FIXTURE_ABI_MINOR CHASSIS_ABI_MINOR
#endif

__attribute__((unused)) static const chassis_plugin_descriptor descriptor = {
    .size = sizeof(chassis_plugin_descriptor),
    .abi_major = FIXTURE_ABI_MAJOR,
    .abi_minor = FIXTURE_ABI_MINOR,
    .name = FIXTURE_NAME,
    .version = "0.0.1",
    .summary = "test fixture",
#ifdef FIXTURE_REQUIRES
    .requires = requires_list,
#endif
#ifdef FIXTURE_PROVIDES
    .provides = provides_list,
#endif
    .init = fixture_init,
    .start = fixture_start,
    .stop = fixture_stop,
    .deinit = fixture_deinit,
};

#ifdef FIXTURE_NO_ENTRY
__attribute__((visibility("default"))) int not_a_chassis_entry(void) { return 0; }
#else
__attribute__((visibility("default")))
const chassis_plugin_descriptor *chassis_plugin_entry(uint32_t host_major, uint32_t host_minor) {
    (void)host_major;
    (void)host_minor;
    return &descriptor;
}
#endif
