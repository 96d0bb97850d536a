/* stats_user: a plain-C publisher for the stats service test (test_stats.py). It declares a
 * counter and a histogram in init, records known values and two queries in start, and adds a
 * collector, so the test can scrape every figure back with exact values. */
#include <chassis.h>
#include <chassis_stats.h>
#include <string.h>

static const chassis_stats_service *stats;
static void *stats_instance;
static chassis_stats_metric *events, *latency;
static uint64_t collector;

static void collect(void *user, chassis_stats_emit_fn emit, void *sink) {
    (void)user;
    const char *names[] = { "source" };
    const char *values[] = { "c" };
    emit(sink, "stats_user_collected", "A gauge the C collector emits.", CHASSIS_STATS_GAUGE, names, values, 1, 42.0);
}

static int fail(chassis_context *ctx, const char *message) {
    ctx->api->set_error(ctx->self, message);
    return CHASSIS_ERR;
}

static int stats_user_init(chassis_context *ctx) {
    const chassis_service *service = ctx->api->lookup_service(ctx->self, CHASSIS_STATS_SERVICE, CHASSIS_STATS_VERSION);
    stats = chassis_service_table(service, sizeof(chassis_stats_service));
    if (stats == NULL) return fail(ctx, "the stats service is missing or too old");
    stats_instance = service->instance;
    const char *labels[] = { "kind" };
    events = stats->metric(stats_instance, CHASSIS_STATS_COUNTER, "stats_user_events", "Events the C fixture counted.", labels, 1);
    latency = stats->metric(stats_instance, CHASSIS_STATS_HISTOGRAM, "stats_user_latency", "Latencies the C fixture recorded.", NULL, 0);
    if (events == NULL || latency == NULL) return fail(ctx, "cannot declare the metrics");
    return CHASSIS_OK;
}

static int stats_user_start(chassis_context *ctx) {
    const char *kind[] = { "quote\"d" };   /* the label value needs escaping on /metrics */
    chassis_stats_series *counted = stats->series(stats_instance, events, kind);
    chassis_stats_series *timed = stats->series(stats_instance, latency, NULL);
    if (counted == NULL || timed == NULL) return fail(ctx, "cannot resolve the series");
    stats->add(counted, 3);
    stats->add(counted, 4);
    for (int i = 0; i < 3; i++) stats->record(timed, 1000000);   /* 1 ms */
    stats->record(timed, 3000000);                               /* 3 ms */

    const char *q1 = "SELECT * FROM orders WHERE id = 1";
    const char *q2 = "select *  from orders where id = 22";
    stats->record_query(stats_instance, q1, strlen(q1), "alice", "shop", 2000000, 1, 0, 0);
    stats->record_query(stats_instance, q2, strlen(q2), "alice", "shop", 4000000, 0, 0, 1);

    collector = stats->add_collector(stats_instance, collect, NULL);
    if (collector == 0) return fail(ctx, "cannot add the collector");
    ctx->api->log(ctx->self, CHASSIS_LOG_INFO, "stats_user recorded");
    return CHASSIS_OK;
}

static void stats_user_stop(chassis_context *ctx) {
    (void)ctx;
    if (collector != 0) stats->remove_collector(stats_instance, collector);
}

static const chassis_dependency needs_stats = { sizeof(chassis_dependency), CHASSIS_STATS_SERVICE, CHASSIS_STATS_VERSION };
static const chassis_dependency *const requires_list[] = { &needs_stats, NULL };

static const chassis_plugin_descriptor descriptor = {
    .size = sizeof(chassis_plugin_descriptor),
    .abi_major = CHASSIS_ABI_MAJOR,
    .abi_minor = CHASSIS_ABI_MINOR,
    .name = "stats_user",
    .version = "0.0.1",
    .summary = "test fixture: publishes through the stats service from C",
    .requires = requires_list,
    .init = stats_user_init,
    .start = stats_user_start,
    .stop = stats_user_stop,
};

__attribute__((visibility("default")))
const chassis_plugin_descriptor *chassis_plugin_entry(uint32_t host_major, uint32_t host_minor) {
    (void)host_major;
    (void)host_minor;
    return &descriptor;
}
