/* The context every operation takes first: where the state lives, the store, the libvirt
 * connection (opened on first use and kept), and the configuration recorded by `vmmgr init`.
 * No global mutable state: a test can hold several contexts at once. */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "error.h"
#include "page.h"

#define VM_MAX_ZONES 8

typedef struct vm_ctx {
    char *state_dir;
    char *uri;
    sqlite3 *db;
    virConnectPtr conn;
    char *images_dir;  /* recipe for the tiny image (images/tiny) */
    char *cache_dir;   /* shared build cache for the tiny image */
    int stop_timeout;  /* seconds a guest gets to shut down before it is forced off */
    bool keepalive;    /* probe the libvirt connection (needs a running libvirt event loop) */
    /* a daemon's loop reconciles (vmmgr serve, every few seconds): requests read the store and
     * never wait on libvirt for it (a domain being started or refiltered blocks every lookup) */
    bool reconciled_elsewhere;
    struct {
        const char *sql; /* a string literal: compared by address */
        sqlite3_stmt *st;
    } stmts[48];         /* prepared once for queries run per row (or per request) */
    /* a request with DryRun=true (vm_dispatch): the store refuses every write and libvirt is
     * reached read-only, so a handler that forgot DryRun cannot change anything; dry_run_hit
     * says a write was refused (the request would have changed something) */
    bool dry_run, dry_run_hit;
    /* a person watches this CLI command on a terminal: long copies (snapshots, image imports) show
     * their progress there instead of running as a job */
    bool progress;
    vm_page page; /* the request's MaxResults/NextToken (vm_dispatch; core/page.h) */
    virConnectPtr conn_ro;
    char accel[8];     /* "kvm" or "tcg", or "" before init */
    char region[32];
    char az[40]; /* the first zone: where a resource given no zone goes */
    char account_id[16];
    /* the region's availability zones (config availability_zones, comma-separated; a state dir
     * made before zones had only `availability_zone`).  On one host every zone is this machine:
     * a zone is a property that placement reads, so zones can later map to groups of hosts. */
    char zones[VM_MAX_ZONES][40];
    size_t nzones;
    long long config_version;    /* the store's data_version when the config was last checked */
    long long config_generation; /* config 'generation' when it was read (vm_config_set moves it) */
} vm_ctx;

/* Reads region, zones, account and settings from the store's config again (after init changed them). */
void vm_ctx_load_config(vm_ctx *ctx);
/* The same, when another process may have changed the store since (a long-lived context of
 * `vmmgr serve` before each request: `vmmgr init --availability-zones` takes effect at once). */
void vm_ctx_config_refresh(vm_ctx *ctx);
/* Zone index of a zone name, -1 when the region has no such zone. */
int vm_zone_find(const vm_ctx *ctx, const char *name);
/* Zone index of a zone id (use1-az1, …), -1 when none. */
int vm_zone_find_id(const vm_ctx *ctx, const char *id);
/* The zone id of zone i: the region's short code and the zone's number (us-east-1 → use1-az1). */
void vm_zone_id(const vm_ctx *ctx, size_t i, char buf[48]);
/* The zone id of a zone name ("" when it is none of the region's). */
void vm_zone_id_of(const vm_ctx *ctx, const char *name, char buf[48]);

/* Opens (creating) the state dir and its store.  uri NULL means the default.  NULL on failure. */
vm_ctx *vm_ctx_new(const char *state_dir, const char *uri, vm_error *err);
void vm_ctx_free(vm_ctx *ctx);
#include "cleanup.h"
VM_DEFINE_CLEANUP(vm_ctx *, vm_ctx_free)

/* The libvirt connection, opened on first use; borrowed.  ServiceUnavailable when libvirt cannot
 * be reached. */
virConnectPtr vm_ctx_conn(vm_ctx *ctx, vm_error *err);

/* Enters (on) or leaves a DryRun request's guard (the fields above). */
void vm_ctx_dry_run(vm_ctx *ctx, bool on);

/* Configuration values stored in the state store.  get returns an owned string or NULL. */
char *vm_config_get(vm_ctx *ctx, const char *key);
int vm_config_set(vm_ctx *ctx, const char *key, const char *value, vm_error *err);

/* The runtime directory of the libvirtd behind ctx->uri (where its networks' dnsmasq pid files
 * are): the directory of the URI's `socket=` parameter (a libvirtd in namespaces of its own, as the
 * test harness runs it), else /run/libvirt.  NULL when the URI names another host. */
const char *vm_ctx_libvirt_rundir(const vm_ctx *ctx, char *buf, size_t len);
/* "<state_dir>/<sub>" into buf. */
const char *vm_ctx_path(const vm_ctx *ctx, char *buf, size_t len, const char *sub);
/* The lock of resource id (an instance, volume, snapshot or image) under <state-dir>/locks, held by
 * every operation on it and by the job that finishes one; it dies with its holder (vm_lock_take). */
int vm_ctx_lock(vm_ctx *ctx, const char *id, bool nonblock, vm_error *err);
/* A prepared statement for sql (a string literal), made once per context and reset for each use;
 * borrowed: never finalise it.  For queries that run once per row of a describe. */
sqlite3_stmt *vm_ctx_stmt(vm_ctx *ctx, const char *sql, vm_error *err);
/* Whether `vmmgr init` has run on this state dir. */
bool vm_ctx_initialized(const vm_ctx *ctx);
/* A process-wide setting: crash at the named launch step (tests of crash repair; "" = never). */
void vm_crash_point(const char *step);
/* With VMMGR_TRACE set: one line on stderr per step, "vmmgr trace PID EPOCH_MS +MS step" (MS since
 * this process's first trace line), so that a launch's CLI and its job can be laid side by side
 * (bench/launch.sh --trace).  Costs one getenv per call otherwise. */
void vm_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
