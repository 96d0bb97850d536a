/* backend-watch: an example plugin in plain C over the funnel's hooks. It logs every
 * funnel.backend.* event (added, removed, state changes) with the backend's figures, and
 * registers a policy that vetoes the backend named by --backend-watch-veto, so the funnel
 * never sends new work there. Build: see Scripts/build (cc with pkg-config chassis-plugin). */
#include <chassis.h>
#include <chassis_funnel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct watch_state {
    const chassis_api *api;
    chassis_plugin *self;
    char veto[256];
    uint64_t policy_id;
    const chassis_funnel_backends_service *backends;
    void *backends_instance;
} watch_state;

static const char *state_name(uint32_t state) {
    switch (state) {
    case CHASSIS_FUNNEL_BACKEND_UP: return "UP";
    case CHASSIS_FUNNEL_BACKEND_DOWN: return "DOWN";
    case CHASSIS_FUNNEL_BACKEND_DRAINING: return "DRAINING";
    case CHASSIS_FUNNEL_BACKEND_MAINTENANCE: return "MAINTENANCE";
    default: return "?";
    }
}

static void on_backend_event(const chassis_event *event, void *user) {
    watch_state *s = user;
    char line[512];
    const chassis_funnel_backend_info *info = event->payload;
    if (info != NULL && info->size >= sizeof(chassis_funnel_backend_info)) {
        snprintf(line, sizeof line, "%s %s state=%s weight=%u open=%u (%s)", event->name, info->address,
                 state_name(info->state), info->weight, info->open, event->detail ? event->detail : "");
    } else {
        snprintf(line, sizeof line, "%s (%s)", event->name, event->detail ? event->detail : "");
    }
    s->api->log(s->self, CHASSIS_LOG_INFO, line);
}

static int veto_backend(void *user, const char *backend, const char *client_user, const char *database) {
    (void)client_user;
    (void)database;
    watch_state *s = user;
    return s->veto[0] != '\0' && strcmp(backend, s->veto) == 0;
}

static int watch_init(chassis_context *ctx) {
    watch_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        ctx->api->set_error(ctx->self, "out of memory");
        return CHASSIS_ERR;
    }
    s->api = ctx->api;
    s->self = ctx->self;
    const char *veto = ctx->api->option(ctx->self, "veto");
    if (veto != NULL) snprintf(s->veto, sizeof s->veto, "%s", veto);
    ctx->state = s;
    return CHASSIS_OK;
}

static int watch_start(chassis_context *ctx) {
    watch_state *s = ctx->state;
    ctx->api->subscribe(ctx->self, "funnel.backend.*", on_backend_event, s);
    const chassis_service *service = ctx->api->lookup_service(ctx->self, CHASSIS_FUNNEL_BACKENDS_SERVICE_NAME, 1);
    s->backends = chassis_service_table(service, sizeof(chassis_funnel_backends_service));
    if (s->backends == NULL) {
        ctx->api->set_error(ctx->self, "the funnel.backends service is missing: load the funnel plugin too");
        return CHASSIS_ERR;
    }
    s->backends_instance = service->instance;
    chassis_funnel_policy policy = { sizeof(chassis_funnel_policy), veto_backend, NULL, s };
    s->policy_id = s->backends->add_policy(s->backends_instance, &policy);
    char line[320];
    snprintf(line, sizeof line, "watching backends; vetoing '%s'", s->veto);
    ctx->api->log(ctx->self, CHASSIS_LOG_INFO, line);
    return CHASSIS_OK;
}

static void watch_stop(chassis_context *ctx) {
    watch_state *s = ctx->state;
    if (s != NULL && s->backends != NULL && s->policy_id != 0) {
        s->backends->remove_policy(s->backends_instance, s->policy_id);
        s->policy_id = 0;
    }
}

static void watch_deinit(chassis_context *ctx) {
    free(ctx->state);
    ctx->state = NULL;
}

static const chassis_dependency backends_dep = { sizeof(chassis_dependency), CHASSIS_FUNNEL_BACKENDS_SERVICE_NAME, 1 };
static const chassis_dependency *const required[] = { &backends_dep, NULL };
static const chassis_option_decl veto_option = {
    sizeof(chassis_option_decl), "veto", CHASSIS_OPTION_STRING, "", "Backend (host:port) that must get no new work.",
};
static const chassis_option_decl *const options[] = { &veto_option, NULL };

static const chassis_plugin_descriptor descriptor = {
    .size = sizeof(chassis_plugin_descriptor),
    .abi_major = CHASSIS_ABI_MAJOR,
    .abi_minor = CHASSIS_ABI_MINOR,
    .name = "backend-watch",
    .version = "1.0.0",
    .summary = "Example C plugin on the funnel's hooks: logs backend events, vetoes a backend.",
    .requires = required,
    .options = options,
    .init = watch_init,
    .start = watch_start,
    .stop = watch_stop,
    .deinit = watch_deinit,
};

__attribute__((visibility("default")))
const chassis_plugin_descriptor *chassis_plugin_entry(uint32_t host_major, uint32_t host_minor) {
    (void)host_minor;
    return host_major == CHASSIS_ABI_MAJOR ? &descriptor : NULL;
}
