#include "ctx.h"
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "conn.h"
#include "db.h"

#ifndef VMMGR_PKGDATADIR
#define VMMGR_PKGDATADIR "/usr/local/share/vmmgr"
#endif

static int
mkdir_p(const char *path, mode_t mode, vm_error *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "path '%s' is too long", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", buf);
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", buf);
    return 0;
}

const char *
vm_ctx_path(const vm_ctx *ctx, char *buf, size_t len, const char *sub)
{
    snprintf(buf, len, "%s/%s", ctx->state_dir, sub);
    return buf;
}

static long long config_generation(vm_ctx *ctx);

void
vm_ctx_load_config(vm_ctx *ctx)
{
    struct {
        const char *key;
        char *dst;
        size_t len;
        const char *def;
    } keys[] = {
        { "accel", ctx->accel, sizeof(ctx->accel), "" },
        { "region", ctx->region, sizeof(ctx->region), "us-east-1" },
        { "availability_zone", ctx->az, sizeof(ctx->az), "us-east-1a" },
        { "account_id", ctx->account_id, sizeof(ctx->account_id), "000000000000" },
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        _cleanup_free_ char *v = vm_config_get(ctx, keys[i].key);
        snprintf(keys[i].dst, keys[i].len, "%s", v ? v : keys[i].def);
    }
    _cleanup_free_ char *zs = vm_config_get(ctx, "availability_zones");
    ctx->nzones = 0;
    for (const char *z = zs ? zs : ctx->az; *z && ctx->nzones < VM_MAX_ZONES;) {
        size_t n = strcspn(z, ",");
        if (n && n < sizeof(ctx->zones[0]))
            snprintf(ctx->zones[ctx->nzones++], sizeof(ctx->zones[0]), "%.*s", (int)n, z);
        z += n + (z[n] == ',');
    }
    if (ctx->nzones == 0)
        snprintf(ctx->zones[ctx->nzones++], sizeof(ctx->zones[0]), "%s", ctx->az);
    snprintf(ctx->az, sizeof(ctx->az), "%s", ctx->zones[0]);
    _cleanup_free_ char *st = vm_config_get(ctx, "stop_timeout");
    ctx->stop_timeout = st ? atoi(st) : 60;
    ctx->config_generation = config_generation(ctx);
    const char *env = getenv("VMMGR_STOP_TIMEOUT");
    if (env && atoi(env) > 0)
        ctx->stop_timeout = atoi(env);
}

static int authorize(void *data, int action, const char *a, const char *b, const char *db, const char *trigger);

vm_ctx *
vm_ctx_new(const char *state_dir, const char *uri, vm_error *err)
{
    vm_conn_quiet();
    vm_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    char real[PATH_MAX], buf[PATH_MAX];
    const char *images = getenv("VMMGR_IMAGES_DIR");
    const char *cache = getenv("VMMGR_CACHE_DIR");
    vm_error mk = { 0 };
    if (mkdir_p(state_dir, 0755, &mk) < 0 || !realpath(state_dir, real) || access(real, R_OK | W_OK | X_OK) < 0) {
        int e = mk.code ? mk.sys_errno : errno;
        if (e == EACCES || e == EPERM || e == EROFS)
            vm_error_set_errno(err, e, VM_ERR_INTERNAL,
                               "cannot use state dir '%s': run vmmgr as root (it drives the system's libvirtd and "
                               "owns %s), or give --state-dir (or VMMGR_STATE_DIR) a directory you can write",
                               state_dir, "/var/lib/vmmgr");
        else
            vm_error_set_errno(err, e, VM_ERR_INTERNAL, "cannot use state dir '%s'", state_dir);
        goto fail;
    }
    /* QEMU runs as its own user and must reach the disks and kernels under the state dir */
    chmod(real, 0755);
    ctx->state_dir = strdup(real);
    ctx->uri = strdup(uri ? uri : "qemu:///system");
    ctx->images_dir = strdup(images ? images : VMMGR_PKGDATADIR "/tiny");
    ctx->cache_dir = strdup(cache ? cache : "/var/cache/vmmgr");
    if (!ctx->state_dir || !ctx->uri || !ctx->images_dir || !ctx->cache_dir) {
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    const char *subdirs[] = { "images", "instances", "locks" };
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
        if (mkdir_p(vm_ctx_path(ctx, buf, sizeof(buf), subdirs[i]), 0755, err) < 0)
            goto fail;
    vm_ctx_path(ctx, buf, sizeof(buf), "state.db");
    if (!(ctx->db = vm_db_open(buf, err)))
        goto fail;
    /* The store holds the API's secret keys: root alone reads it.  chmod by path, never an open()
     * and close() of the file: closing any descriptor of it would drop SQLite's POSIX locks. */
    const char *suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        char p[PATH_MAX + 8];
        snprintf(p, sizeof(p), "%s%s", buf, suffixes[i]);
        if (chmod(p, 0600) < 0 && errno != ENOENT) {
            vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot protect '%s'", p);
            goto fail;
        }
    }
    sqlite3_set_authorizer(ctx->db, authorize, ctx);
    vm_ctx_load_config(ctx);
    return ctx;
fail:
    vm_ctx_free(ctx);
    return NULL;
}

/* The store's guard under DryRun: reads pass, every change to the database is refused. */
static int
authorize(void *data, int action, const char *a, const char *b, const char *db, const char *trigger)
{
    (void)a, (void)b, (void)db, (void)trigger;
    vm_ctx *ctx = data;
    if (!ctx->dry_run)
        return SQLITE_OK;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    default:
        ctx->dry_run_hit = true;
        return SQLITE_DENY;
    }
}

void
vm_ctx_dry_run(vm_ctx *ctx, bool on)
{
    ctx->dry_run = on;
    ctx->dry_run_hit = false;
}

const char *
vm_ctx_libvirt_rundir(const vm_ctx *ctx, char *buf, size_t len)
{
    const char *u = ctx->uri;
    const char *scheme_end = strstr(u, "://");
    if (!scheme_end || scheme_end[3] != '/')
        return NULL; /* qemu+ssh://host/system and the like: not this host's files */
    const char *q = strchr(u, '?');
    const char *sock = NULL;
    for (const char *p = q; p; p = strchr(p + 1, '&'))
        if (strncmp(p + 1, "socket=", 7) == 0)
            sock = p + 8;
    if (!sock) {
        snprintf(buf, len, "/run/libvirt");
        return buf;
    }
    size_t n = strcspn(sock, "&");
    const char *slash = memrchr(sock, '/', n);
    if (!slash || slash == sock || (size_t)(slash - sock) >= len)
        return NULL;
    memcpy(buf, sock, (size_t)(slash - sock));
    buf[slash - sock] = '\0';
    return buf;
}

void
vm_ctx_free(vm_ctx *ctx)
{
    if (!ctx)
        return;
    vm_ctx_conn_close(ctx);
    for (size_t i = 0; i < sizeof(ctx->stmts) / sizeof(ctx->stmts[0]); i++)
        sqlite3_finalize(ctx->stmts[i].st);
    vm_db_close(ctx->db);
    free(ctx->state_dir);
    free(ctx->uri);
    free(ctx->images_dir);
    free(ctx->cache_dir);
    free(ctx);
}

char *
vm_config_get(vm_ctx *ctx, const char *key)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, &(vm_error){ 0 }, "SELECT value FROM config WHERE key = ?", "t", key) < 0)
        return NULL;
    if (sqlite3_step(st) != SQLITE_ROW)
        return NULL;
    return strdup(vm_db_text(st, 0));
}

int
vm_config_set(vm_ctx *ctx, const char *key, const char *value, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO config(key, value) VALUES (?, ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   "tt", key, value) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving configuration", err);
    /* the other processes' and connections' cue to read the configuration again */
    if (vm_db_exec(ctx->db, "INSERT INTO config(key, value) VALUES ('generation', '1') "
                            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1", err) < 0)
        return -1;
    vm_ctx_load_config(ctx);
    return 0;
}

/* the configuration's generation (vm_config_set moves it), 0 before the first */
static long long
config_generation(vm_ctx *ctx)
{
    vm_error ignore = { 0 };
    sqlite3_stmt *st = vm_ctx_stmt(ctx, "SELECT CAST(value AS INTEGER) FROM config WHERE key = 'generation'", &ignore);
    long long g = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (st)
        sqlite3_reset(st);
    return g;
}

sqlite3_stmt *
vm_ctx_stmt(vm_ctx *ctx, const char *sql, vm_error *err)
{
    size_t n = sizeof(ctx->stmts) / sizeof(ctx->stmts[0]), i;
    for (i = 0; i < n && ctx->stmts[i].sql; i++)
        if (ctx->stmts[i].sql == sql) {
            sqlite3_reset(ctx->stmts[i].st);
            sqlite3_clear_bindings(ctx->stmts[i].st);
            return ctx->stmts[i].st;
        }
    sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, sql, &st, err) < 0)
        return NULL;
    if (i < n) {
        ctx->stmts[i].sql = sql;
        ctx->stmts[i].st = st;
        return st;
    }
    sqlite3_finalize(st); /* the cache is full: a programming error, reported as such */
    vm_error_set(err, VM_ERR_INTERNAL, "statement cache full");
    return NULL;
}

bool
vm_ctx_initialized(const vm_ctx *ctx)
{
    return ctx->accel[0] != '\0';
}

void
vm_crash_point(const char *step)
{
    const char *env = getenv("VMMGR_TEST_CRASH_AT");
    if (env && strcmp(env, step) == 0) {
        /* said first: in a job, stderr is jobs.log, the only sign a test has of where it died */
        fprintf(stderr, "vmmgr: test crash at %s\n", step);
        raise(SIGKILL); /* as if killed -9 right here: no cleanup, no atexit */
    }
}

void
vm_trace(const char *fmt, ...)
{
    static int on = -1;
    static double first;
    if (on < 0)
        on = getenv("VMMGR_TRACE") != NULL;
    if (!on)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    if (first == 0)
        first = ms;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    fprintf(stderr, "vmmgr trace %d %.1f +%.1f %s\n", (int)getpid(), ms, ms - first, what);
}

int
vm_ctx_lock(vm_ctx *ctx, const char *id, bool nonblock, vm_error *err)
{
    char dir[4096];
    return vm_lock_take(vm_ctx_path(ctx, dir, sizeof(dir), "locks"), id, nonblock, err);
}

int
vm_zone_find(const vm_ctx *ctx, const char *name)
{
    for (size_t i = 0; name && i < ctx->nzones; i++)
        if (strcmp(ctx->zones[i], name) == 0)
            return (int)i;
    return -1;
}

void
vm_zone_id(const vm_ctx *ctx, size_t i, char buf[48])
{
    /* us-east-1 → use1, eu-west-2 → euw2, ap-southeast-1 → apse1, as AWS abbreviates regions */
    static const struct {
        const char *word, *code;
    } words[] = { { "northeast", "ne" }, { "southeast", "se" }, { "northwest", "nw" }, { "southwest", "sw" },
                  { "north", "n" },      { "south", "s" },      { "east", "e" },       { "west", "w" },
                  { "central", "c" } };
    char code[24] = "";
    const char *r = ctx->region;
    for (int part = 0; *r; part++) {
        size_t n = strcspn(r, "-"), len = strlen(code);
        const char *w = NULL;
        for (size_t k = 0; part > 0 && !w && k < sizeof(words) / sizeof(words[0]); k++)
            if (strlen(words[k].word) == n && strncmp(r, words[k].word, n) == 0)
                w = words[k].code;
        snprintf(code + len, sizeof(code) - len, "%.*s", w ? (int)strlen(w) : (int)n, w ? w : r);
        r += n + (r[n] == '-');
    }
    /* the zone's number: its letter's place in the alphabet, so ids stay when zones are added */
    const char *z = ctx->zones[i];
    size_t zl = strlen(z);
    int num = zl && z[zl - 1] >= 'a' && z[zl - 1] <= 'z' ? z[zl - 1] - 'a' + 1 : (int)i + 1;
    snprintf(buf, 48, "%s-az%d", code, num);
}

int
vm_zone_find_id(const vm_ctx *ctx, const char *id)
{
    char buf[48];
    for (size_t i = 0; id && i < ctx->nzones; i++) {
        vm_zone_id(ctx, i, buf);
        if (strcmp(buf, id) == 0)
            return (int)i;
    }
    return -1;
}

void
vm_zone_id_of(const vm_ctx *ctx, const char *name, char buf[48])
{
    int i = vm_zone_find(ctx, name);
    buf[0] = '\0';
    if (i >= 0)
        vm_zone_id(ctx, (size_t)i, buf);
}

void
vm_ctx_config_refresh(vm_ctx *ctx)
{
    /* data_version moves when another connection committed (on a busy endpoint, most requests: the
     * points of PutMetricData, say): only then can the config differ, and only if its generation moved */
    vm_error ignore = { 0 };
    sqlite3_stmt *st = vm_ctx_stmt(ctx, "PRAGMA data_version", &ignore);
    if (!st)
        return;
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : ctx->config_version;
    sqlite3_reset(st);
    if (v == ctx->config_version)
        return;
    ctx->config_version = v;
    if (config_generation(ctx) != ctx->config_generation)
        vm_ctx_load_config(ctx);
}
