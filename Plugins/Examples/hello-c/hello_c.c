/* hello-c: an example chassis plugin in plain C. It registers "hello.counter", calls the
 * Swift plugin's "hello.greeter" when it starts, and logs the "hello.*" events it sees.
 * Build: cc -shared -fPIC $(pkg-config --cflags chassis-plugin) -I../CHelloServices/include -o libhello-c.so hello_c.c */
#include <chassis.h>
#include <hello_services.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hello_c_state {
    uint64_t count;
    const chassis_api *api;
    chassis_plugin *self;
} hello_c_state;

static uint64_t counter_increment(void *instance, uint64_t by) {
    hello_c_state *s = instance;
    return __atomic_add_fetch(&s->count, by, __ATOMIC_SEQ_CST);
}

static uint64_t counter_value(void *instance) {
    hello_c_state *s = instance;
    return __atomic_load_n(&s->count, __ATOMIC_SEQ_CST);
}

static const hello_counter_service counter_table = {
    .size = sizeof(hello_counter_service),
    .increment = counter_increment,
    .value = counter_value,
};

static void on_event(const chassis_event *event, void *user) {
    hello_c_state *s = user;
    char line[512];
    snprintf(line, sizeof line, "event %s from %s: %s", event->name, event->source, event->detail ? event->detail : "");
    s->api->log(s->self, CHASSIS_LOG_INFO, line);
}

static int hello_c_init(chassis_context *ctx) {
    hello_c_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        ctx->api->set_error(ctx->self, "out of memory");
        return CHASSIS_ERR;
    }
    s->api = ctx->api;
    s->self = ctx->self;
    const char *start = ctx->api->option(ctx->self, "start-count");
    s->count = start ? strtoull(start, NULL, 10) : 0;
    ctx->state = s;
    chassis_service service = {
        .size = sizeof(chassis_service), .name = "hello.counter", .version = 1,
        .vtable = &counter_table, .instance = s,
    };
    return ctx->api->register_service(ctx->self, &service);
}

static int hello_c_start(chassis_context *ctx) {
    hello_c_state *s = ctx->state;
    ctx->api->subscribe(ctx->self, "hello.*", on_event, s);
    const chassis_service *service = ctx->api->lookup_service(ctx->self, "hello.greeter", 1);
    const hello_greeter_service *greeter = chassis_service_table(service, sizeof(hello_greeter_service));
    if (greeter == NULL) {
        ctx->api->log(ctx->self, CHASSIS_LOG_INFO, "hello.greeter is not loaded; nobody to greet me");
        return CHASSIS_OK;
    }
    char answer[256], line[320];
    if (greeter->greet(service->instance, "hello-c", answer, sizeof answer) != 0) {
        ctx->api->set_error(ctx->self, "hello.greeter answer did not fit");
        return CHASSIS_ERR;
    }
    snprintf(line, sizeof line, "hello.greeter answered: %s", answer);
    ctx->api->log(ctx->self, CHASSIS_LOG_INFO, line);
    return CHASSIS_OK;
}

static void hello_c_stop(chassis_context *ctx) {
    hello_c_state *s = ctx->state;
    if (s == NULL) return;
    char line[128];
    snprintf(line, sizeof line, "stopping; hello.counter ended at %llu", (unsigned long long)counter_value(s));
    ctx->api->log(ctx->self, CHASSIS_LOG_INFO, line);
}

static void hello_c_deinit(chassis_context *ctx) {
    free(ctx->state);
    ctx->state = NULL;
}

static const chassis_dependency greeter_dep = { sizeof(chassis_dependency), "hello.greeter", 1 };
static const chassis_dependency counter_provided = { sizeof(chassis_dependency), "hello.counter", 1 };
static const chassis_dependency *const optional_deps[] = { &greeter_dep, NULL };
static const chassis_dependency *const provided[] = { &counter_provided, NULL };
static const chassis_option_decl start_count = {
    sizeof(chassis_option_decl), "start-count", CHASSIS_OPTION_INT, "0", "Value the counter starts at.",
};
static const chassis_option_decl *const options[] = { &start_count, NULL };

static const chassis_plugin_descriptor descriptor = {
    .size = sizeof(chassis_plugin_descriptor),
    .abi_major = CHASSIS_ABI_MAJOR,
    .abi_minor = CHASSIS_ABI_MINOR,
    .name = "hello-c",
    .version = "1.0.0",
    .summary = "Example plugin in plain C: a counter service, and a call to the Swift greeter.",
    .optional = optional_deps,
    .provides = provided,
    .options = options,
    .init = hello_c_init,
    .start = hello_c_start,
    .stop = hello_c_stop,
    .deinit = hello_c_deinit,
};

__attribute__((visibility("default")))
const chassis_plugin_descriptor *chassis_plugin_entry(uint32_t host_major, uint32_t host_minor) {
    (void)host_minor;
    return host_major == CHASSIS_ABI_MAJOR ? &descriptor : NULL;
}
