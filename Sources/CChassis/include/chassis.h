/*
 * chassis.h: the whole plugin ABI of the chassis, in one header.
 *
 * A plugin is a shared library that exports exactly one symbol, CHASSIS_ENTRY_SYMBOL.
 * The host calls it once, with its own ABI version, and the plugin returns a pointer
 * to a static descriptor. Everything after that flows through the descriptor and the
 * registry (chassis_api); the host never looks up another symbol.
 *
 * Compatibility promise
 *   - The major version changes only when an existing layout or meaning changes.
 *   - A minor version only appends fields at the end of structs and function tables.
 *   - The host loads a plugin of the same major and an equal or older minor. Every struct
 *     starts with its own size, and the host reads only what that size covers, so an old
 *     plugin keeps working after a minor bump.
 *   - Function tables handed to plugins (chassis_api, service tables) also start with
 *     their size: a plugin checks the size before calling a field newer than its header.
 *
 * Changelog
 *   1.1  chassis_plugin_descriptor.reload (SIGHUP); chassis_api.topic and the
 *        chassis_topic subscriber counter, so publishers skip building events nobody reads.
 *   1.0  first version: descriptor, lifecycle, options, services, events, logging.
 *
 * Nothing but C types crosses this boundary. Errors are return codes plus a message set
 * with chassis_api.set_error. A plugin never lets an exception or a longjmp leave a callback.
 */
#ifndef CHASSIS_H
#define CHASSIS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if !__has_feature(nullability)
#define _Nonnull
#define _Nullable
#endif

#define CHASSIS_ABI_MAJOR 1
#define CHASSIS_ABI_MINOR 1

/* The one symbol a plugin exports. */
#define CHASSIS_ENTRY_SYMBOL "chassis_plugin_entry"

/* Return codes of every int-returning call. */
enum {
    CHASSIS_OK = 0,
    CHASSIS_ERR = 1,           /* generic failure, message via set_error */
    CHASSIS_ERR_EXISTS = 2,    /* a service of that name is registered already */
    CHASSIS_ERR_NOT_FOUND = 3, /* no such service, option or subscription */
    CHASSIS_ERR_INVALID = 4    /* a malformed argument (NULL name, short struct) */
};

/* Log levels, as swift-log orders them. */
typedef enum chassis_log_level {
    CHASSIS_LOG_TRACE = 0,
    CHASSIS_LOG_DEBUG = 1,
    CHASSIS_LOG_INFO = 2,
    CHASSIS_LOG_NOTICE = 3,
    CHASSIS_LOG_WARNING = 4,
    CHASSIS_LOG_ERROR = 5,
    CHASSIS_LOG_CRITICAL = 6
} chassis_log_level;

/* ---------------------------------------------------------------- options */

typedef enum chassis_option_type {
    CHASSIS_OPTION_STRING = 1,
    CHASSIS_OPTION_INT = 2,    /* signed 64-bit */
    CHASSIS_OPTION_BOOL = 3,   /* true/false, yes/no, on/off, 1/0 */
    CHASSIS_OPTION_DOUBLE = 4,
    CHASSIS_OPTION_LIST = 5,   /* strings; comma-separated or repeated on the command line, an array in the config */
    CHASSIS_OPTION_TABLE = 6   /* a config-file table, handed to the plugin as JSON text */
} chassis_option_type;

/* One option a plugin declares. `name` has no plugin prefix: the funnel's "address" is
 * --funnel-address on the command line and `address` in the config file's [funnel] table. */
typedef struct chassis_option_decl {
    uint32_t size;
    const char *_Nonnull name;
    uint32_t type;                        /* chassis_option_type */
    const char *_Nullable default_value;  /* as text; NULL: unset */
    const char *_Nullable help;
} chassis_option_decl;

/* ------------------------------------------------------------- services */

/* A service: a name, a version, a table of function pointers and an opaque instance
 * that the table's functions take as their first argument. The table's layout is
 * the providing plugin's contract (documented beside it); it starts with a uint32_t size. */
typedef struct chassis_service {
    uint32_t size;
    const char *_Nonnull name;
    uint32_t version;
    const void *_Nonnull vtable;
    void *_Nullable instance;
} chassis_service;

/* A dependency on a service, with the lowest version that will do. */
typedef struct chassis_dependency {
    uint32_t size;
    const char *_Nonnull service;
    uint32_t min_version;
} chassis_dependency;

/* --------------------------------------------------------------- events */

/* An event. `name` is dotted (funnel.backend.added); `payload` is an event-specific
 * struct documented with the event (may be NULL); `detail` is a short key=value text
 * that any subscriber can log without knowing the payload. Valid only during the call. */
typedef struct chassis_event {
    uint32_t size;
    const char *_Nonnull name;
    const char *_Nonnull source;          /* the publishing plugin's name, or "chassis" */
    const void *_Nullable payload;
    const char *_Nullable detail;
} chassis_event;

/* Called synchronously on the publisher's thread: keep it short and never block. */
typedef void (*chassis_event_fn)(const chassis_event *_Nonnull event, void *_Nullable user);

/* A topic: one event name. Publishers on a hot path read `subscribers` (a plain load)
 * and skip building the event when it is 0. Since 1.1. */
typedef struct chassis_topic {
    uint32_t size;
    volatile uint32_t subscribers;
    const char *_Nonnull name;
} chassis_topic;

/* Host events (source "chassis"):
 *   chassis.service.registered    detail: name=... version=... provider=...
 *   chassis.service.unregistered  detail: name=... provider=...
 *   chassis.plugin.started        detail: name=...
 *   chassis.plugin.stopping       detail: name=...
 *   chassis.reload                detail: empty; sent after every plugin's reload ran
 */

/* --------------------------------------------------------- the host API */

typedef struct chassis_plugin chassis_plugin; /* the host's handle for one loaded plugin */

typedef void (*chassis_service_list_fn)(const chassis_service *_Nonnull service,
                                        const char *_Nonnull provider, void *_Nullable user);

typedef struct chassis_api {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *_Nonnull host_version;

    /* Records why the current callback fails; the host prints it with the plugin's name. */
    void (*_Nonnull set_error)(chassis_plugin *_Nonnull self, const char *_Nonnull message);
    void (*_Nonnull log)(chassis_plugin *_Nonnull self, int level, const char *_Nonnull message);

    /* Options, after the command line, the config file and the defaults were merged.
     * The returned text stays valid until the plugin's deinit. NULL: unset and no default. */
    const char *_Nullable (*_Nonnull option)(chassis_plugin *_Nonnull self, const char *_Nonnull name);

    /* The registry. register copies the struct; names are unique (CHASSIS_ERR_EXISTS). */
    int (*_Nonnull register_service)(chassis_plugin *_Nonnull self, const chassis_service *_Nonnull service);
    int (*_Nonnull unregister_service)(chassis_plugin *_Nonnull self, const char *_Nonnull name);
    /* NULL when absent or older than min_version. Valid until it is unregistered, which
     * happens only at the provider's stop or on its explicit call. */
    const chassis_service *_Nullable (*_Nonnull lookup_service)(chassis_plugin *_Nonnull self,
                                                                const char *_Nonnull name, uint32_t min_version);
    void (*_Nonnull list_services)(chassis_plugin *_Nonnull self, chassis_service_list_fn _Nonnull fn,
                                   void *_Nullable user);

    /* Events. pattern: an exact name, a prefix ending in ".*", or "*". Returns a
     * subscription id > 0, or 0 on error. Subscriptions end at the subscriber's stop. */
    uint64_t (*_Nonnull subscribe)(chassis_plugin *_Nonnull self, const char *_Nonnull pattern,
                                   chassis_event_fn _Nonnull fn, void *_Nullable user);
    int (*_Nonnull unsubscribe)(chassis_plugin *_Nonnull self, uint64_t subscription);
    /* Fills in `source` from self; the event's own source field is ignored. */
    void (*_Nonnull publish)(chassis_plugin *_Nonnull self, const chassis_event *_Nonnull event);

    /* Since 1.1: the topic for an event name, valid for the life of the process. */
    const chassis_topic *_Nonnull (*_Nullable topic)(chassis_plugin *_Nonnull self, const char *_Nonnull name);
} chassis_api;

/* What every lifecycle callback gets. The plugin keeps its own state in `state`. */
typedef struct chassis_context {
    uint32_t size;
    const chassis_api *_Nonnull api;
    chassis_plugin *_Nonnull self;
    void *_Nullable state;
} chassis_context;

/* Lifecycle (see docs/ARCHITECTURE.md for the diagram):
 *   init    register services, read options, allocate; no threads, no sockets yet.
 *           Runs in dependency order: the services a plugin requires are registered.
 *   start   open sockets, start threads. Runs in the same order after every init succeeded.
 *   stop    close sockets, stop threads. Runs in reverse order for every plugin whose start
 *           ran, also when that start failed: stop copes with a half-started state.
 *   deinit  free what init allocated. Runs in reverse order for every plugin whose init succeeded.
 *           When an init fails, the plugins initialised before it are deinitialised (no stop:
 *           nothing started); when a start fails, every started plugin and the failed one are
 *           stopped, then every plugin is deinitialised.
 *   reload  (since 1.1, may be NULL) re-read options after SIGHUP.
 * init, start and reload return CHASSIS_OK or an error code with set_error. */
typedef int (*chassis_lifecycle_fn)(chassis_context *_Nonnull ctx);
typedef void (*chassis_teardown_fn)(chassis_context *_Nonnull ctx);

typedef struct chassis_plugin_descriptor {
    uint32_t size;
    uint16_t abi_major;                   /* CHASSIS_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;                   /* CHASSIS_ABI_MINOR the plugin was built with */
    const char *_Nonnull name;
    const char *_Nonnull version;
    const char *_Nonnull summary;

    /* NULL-terminated arrays, each may itself be NULL. */
    const chassis_dependency *_Nullable const *_Nullable requires;
    const chassis_dependency *_Nullable const *_Nullable optional;
    const chassis_dependency *_Nullable const *_Nullable provides; /* min_version: the version registered */
    const chassis_option_decl *_Nullable const *_Nullable options;

    chassis_lifecycle_fn _Nullable init;
    chassis_lifecycle_fn _Nullable start;
    chassis_teardown_fn _Nullable stop;
    chassis_teardown_fn _Nullable deinit;

    /* since 1.1 */
    chassis_lifecycle_fn _Nullable reload;
} chassis_plugin_descriptor;

/* ------------------------------------------------- services of the host itself */

/* "chassis.plugins" version 1: the loaded plugins, and loading one more at run time. */
typedef struct chassis_plugin_info {
    uint32_t size;
    const char *_Nonnull name;
    const char *_Nonnull version;
    const char *_Nonnull summary;
    const char *_Nonnull path;
    const char *_Nonnull state;           /* loaded, initialized, started, stopped, failed */
    uint16_t abi_major;
    uint16_t abi_minor;
} chassis_plugin_info;

typedef void (*chassis_plugin_info_fn)(const chassis_plugin_info *_Nonnull info, void *_Nullable user);

typedef struct chassis_plugins_service {
    uint32_t size;
    void (*_Nonnull list)(void *_Nullable instance, chassis_plugin_info_fn _Nonnull fn, void *_Nullable user);
    /* Loads, initialises and starts one more plugin from the plugin dir. On failure returns
     * an error code and writes a message into err (always NUL-terminated). */
    int (*_Nonnull load)(void *_Nullable instance, const char *_Nonnull name, char *_Nonnull err, size_t err_size);
    /* Re-reads the config file and asks every plugin to reload, as SIGHUP does. */
    int (*_Nonnull reload)(void *_Nullable instance, char *_Nonnull err, size_t err_size);
} chassis_plugins_service;

/* "chassis.options" version 1: every effective option, for inspection. origin is
 * "default", "config" or "command-line". */
typedef void (*chassis_option_value_fn)(const char *_Nonnull plugin, const char *_Nonnull name,
                                        const char *_Nullable value, const char *_Nonnull origin,
                                        void *_Nullable user);
typedef struct chassis_options_service {
    uint32_t size;
    void (*_Nonnull list)(void *_Nullable instance, chassis_option_value_fn _Nonnull fn, void *_Nullable user);
} chassis_options_service;

/* The entry point's type. The host passes its ABI version; a plugin that cannot work
 * with it may return NULL, and the host reports that. */
typedef const chassis_plugin_descriptor *_Nullable (*chassis_entry_fn)(uint32_t host_abi_major,
                                                                       uint32_t host_abi_minor);

/* Convenience for C authors: look up a service and check its table is large enough. */
static inline const void *_Nullable chassis_service_table(const chassis_service *_Nullable service,
                                                          uint32_t min_table_size) {
    if (service == NULL || service->vtable == NULL) return NULL;
    if (*(const uint32_t *)service->vtable < min_table_size) return NULL;
    return service->vtable;
}

#ifdef __cplusplus
}
#endif
#endif /* CHASSIS_H */
