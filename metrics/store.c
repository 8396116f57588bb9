/* CloudWatch metrics in SQLite: the metrics table names each (namespace, name, dimension set) once;
 * metric_data holds its points, as put for 3 hours and then in CloudWatch's coarser tiers
 * (metrics_maintain). */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "metrics.h"
#include "metrics_priv.h"

/* ListMetrics shows metrics with a point in the last two weeks */
#define METRICS_LIST_SEC (14L * 24 * 3600)

static int
dim_cmp(const void *a, const void *b)
{
    const metric_dim *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

char *
metrics_dims_encode(const metric_key *m)
{
    metric_dim sorted[METRIC_DIMS_MAX];
    memcpy(sorted, m->dims, m->ndims * sizeof(sorted[0]));
    qsort(sorted, m->ndims, sizeof(sorted[0]), dim_cmp);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < m->ndims; i++)
        fprintf(f, "%zu:%s%zu:%s", strlen(sorted[i].name), sorted[i].name, strlen(sorted[i].value), sorted[i].value);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

size_t
metrics_dims_decode(const char *text, char *out, metric_dim *dims)
{
    size_t n = 0;
    const char *p = text;
    while (*p && n < METRIC_DIMS_MAX) {
        const char *parts[2];
        for (int k = 0; k < 2; k++) {
            char *colon;
            size_t len = strtoul(p, &colon, 10);
            if (*colon != ':' || strlen(colon + 1) < len)
                return n;
            memcpy(out, colon + 1, len);
            out[len] = '\0';
            parts[k] = out;
            out += len + 1;
            p = colon + 1 + len;
        }
        dims[n].name = parts[0];
        dims[n].value = parts[1];
        n++;
    }
    return n;
}

/* The process's one writer of points: its own connection to the store (synchronous=NORMAL: points
 * are committed without waiting for the disk; a crash of vmmgr loses none, a crash of the host may
 * lose the last ones, as Prometheus's own WAL may; the rest of the store stays FULL) with its
 * statements prepared once.  One connection, not the caller's: the API's workers and the sampler
 * each have their own, and a connection whose store another one wrote re-reads its pages (SQLite
 * drops a connection's cache when the file changed under it), which was most of a PutMetricData's
 * time; two writers meeting in SQLite's lock would also sleep in its busy handler.  (A group commit,
 * where a put that finds others waiting leaves its transaction open for them, was slower here: the
 * waits cost more than the pages it saved.) */
static struct {
    pthread_mutex_t lock;
    sqlite3 *db;
    char *path;
    sqlite3_stmt *find, *add, *point;
} writer = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
writer_close(void)
{
    sqlite3_finalize(writer.find);
    sqlite3_finalize(writer.add);
    sqlite3_finalize(writer.point);
    vm_db_close(writer.db);
    free(writer.path);
    writer.find = writer.add = writer.point = NULL;
    writer.db = NULL;
    writer.path = NULL;
}

/* the writer for the store ctx uses (opened, or reopened for another store), lock held */
static int
writer_open(vm_ctx *ctx, vm_error *err)
{
    const char *path = sqlite3_db_filename(ctx->db, "main");
    if (!path || !*path)
        return vm_error_set(err, VM_ERR_INTERNAL, "the state store has no file");
    if (writer.db && strcmp(writer.path, path) == 0)
        return 0;
    writer_close();
    if (!(writer.path = strdup(path)))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    /* its commits checkpoint the WAL into the store every ~40 MB rather than every 4 MB: a point's
     * pages (each metric's last index page) are written again and again, and a checkpoint copies
     * only their last version */
    if (!(writer.db = vm_db_open(path, err)) || vm_db_exec(writer.db, "PRAGMA synchronous = NORMAL", err) < 0 ||
        vm_db_exec(writer.db, "PRAGMA wal_autocheckpoint = 10000", err) < 0 ||
        vm_db_prepare(writer.db, "SELECT id FROM metrics WHERE namespace = ? AND name = ? AND dims = ?", &writer.find,
                      err) < 0 ||
        vm_db_prepare(writer.db, "INSERT INTO metrics(namespace, name, dims) VALUES (?, ?, ?) RETURNING id", &writer.add,
                      err) < 0 ||
        vm_db_prepare(writer.db,
                      "INSERT INTO metric_data(metric_id, ts, resolution, unit, count, sum, min, max) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      &writer.point, err) < 0) {
        writer_close();
        return -1;
    }
    return 0;
}

/* the id of the metric (namespace, name, encoded dimensions), made when new */
static int
metric_id(const char *ns, const char *name, const char *dims, sqlite3_int64 *ret, vm_error *err)
{
    for (sqlite3_stmt **st = (sqlite3_stmt *[]){ writer.find, writer.add, NULL }; *st; st++) {
        int rc = vm_db_bind(*st, err, "ttt", ns, name, dims) < 0 ? SQLITE_ERROR : sqlite3_step(*st);
        if (rc == SQLITE_ROW)
            *ret = sqlite3_column_int64(*st, 0);
        sqlite3_reset(*st);
        if (rc == SQLITE_ROW)
            return 0;
        if (rc != SQLITE_DONE)
            return vm_db_error(writer.db, "recording a metric", err);
    }
    return vm_error_set(err, VM_ERR_INTERNAL, "a metric neither found nor made");
}

static int
put_one(const metric_datum *d, vm_error *err)
{
    _cleanup_free_ char *dims = metrics_dims_encode(&d->key);
    if (!dims)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    sqlite3_int64 id = 0;
    if (metric_id(d->key.ns, d->key.name, dims, &id, err) < 0)
        return -1;
    sqlite3_stmt *ins = writer.point;
    int rc = vm_db_bind(ins, err, "iiitdddd", (long long)id, (long long)d->ts, (long long)d->resolution,
                        d->unit ? d->unit : "None", (double)d->count, (double)d->sum, (double)d->min,
                        (double)d->max) < 0 ? SQLITE_ERROR : sqlite3_step(ins);
    sqlite3_reset(ins);
    return rc == SQLITE_DONE ? 0 : vm_db_error(writer.db, "recording a metric's point", err);
}

int
metrics_put(vm_ctx *ctx, const metric_datum *d, size_t n, vm_error *err)
{
    pthread_mutex_lock(&writer.lock);
    int rc = writer_open(ctx, err);
    if (rc == 0)
        rc = vm_db_begin(writer.db, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rc = put_one(&d[i], err)) < 0)
            vm_db_rollback(writer.db);
    if (rc == 0)
        rc = vm_db_commit(writer.db, err);
    pthread_mutex_unlock(&writer.lock);
    if (rc < 0)
        return -1;
    /* the points are in; a maintenance that failed runs again at the next put.  A process does this at
     * most once a minute; racing threads find nothing to roll. */
    static time_t last;
    time_t now = time(NULL), seen = __atomic_load_n(&last, __ATOMIC_RELAXED);
    if (now - seen >= 60 || now < seen) {
        vm_error ignore = { 0 };
        if (metrics_maintain(ctx, now, &ignore) == 0)
            __atomic_store_n(&last, now, __ATOMIC_RELAXED);
    }
    return 0;
}

/* CloudWatch's retention: points as put for 3 hours, then 1-minute aggregates for 15 days, 5-minute
 * for 63 days, 1-hour for 455 days.  Each tier older than its age is rolled into the next one's
 * rows (whole periods only: the cut is on a period boundary, so no period is split). */
static const struct tier {
    int span, next;
    long keep;
} tiers[] = {
    { 0, 60, 3L * 3600 },
    { 60, 300, 15L * 86400 },
    { 300, 3600, 63L * 86400 },
    { 3600, 0, 455L * 86400 },
};

int
metrics_maintain(vm_ctx *ctx, time_t now, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
        const struct tier *t = &tiers[i];
        long step = t->next ? t->next : 1;
        time_t cut = (now - t->keep) / step * step;
        sqlite3_stmt *roll = t->next ? vm_ctx_stmt(ctx,
                                                   "INSERT INTO metric_data(metric_id, ts, resolution, unit, count, "
                                                   "sum, min, max, span) SELECT metric_id, ts - ts % ?2, 60, unit, "
                                                   "sum(count), sum(sum), min(min), max(max), ?2 FROM metric_data "
                                                   "WHERE span = ?1 AND ts < ?3 GROUP BY metric_id, ts / ?2, unit",
                                                   err)
                                     : NULL;
        sqlite3_stmt *del =
            t->next && !roll ? NULL : vm_ctx_stmt(ctx, "DELETE FROM metric_data WHERE span = ?1 AND ts < ?3", err);
        if (!del) {
            vm_db_rollback(ctx->db);
            return -1;
        }
        for (int k = 0; k < 2; k++) {
            sqlite3_stmt *st = k == 0 ? roll : del;
            if (!st)
                continue;
            /* the delete has no ?2: its value is bound and unused */
            int rc = vm_db_bind(st, err, "iii", (long long)t->span, (long long)t->next, (long long)cut) < 0
                         ? SQLITE_ERROR
                         : sqlite3_step(st);
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            if (rc != SQLITE_DONE) {
                vm_db_rollback(ctx->db);
                return vm_db_error(ctx->db, "rolling up old metric points", err);
            }
        }
    }
    return vm_db_commit(ctx->db, err);
}

/* Whether m has every dimension of want (a NULL value: any value). */
static bool
has_dims(const metric_key *m, const metric_dim *want, size_t nwant)
{
    for (size_t i = 0; i < nwant; i++) {
        bool found = false;
        for (size_t k = 0; k < m->ndims && !found; k++)
            found = strcmp(m->dims[k].name, want[i].name) == 0 &&
                    (!want[i].value || strcmp(m->dims[k].value, want[i].value) == 0);
        if (!found)
            return false;
    }
    return true;
}

int
metrics_list(vm_ctx *ctx, const char *ns, const char *name, const metric_dim *dims, size_t ndims, time_t since,
             long offset, long max, metrics_list_fn fn, void *opaque, bool *ret_more, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT namespace, name, dims FROM metrics m WHERE (?1 IS NULL OR namespace = ?1) "
                   "AND (?2 IS NULL OR name = ?2) AND EXISTS (SELECT 1 FROM metric_data d WHERE "
                   "d.metric_id = m.id AND d.ts >= ?3) ORDER BY namespace, name, dims",
                   "tti", ns, name, (long long)(since ? since : time(NULL) - METRICS_LIST_SEC)) < 0)
        return -1;
    long seen = 0, shown = 0;
    *ret_more = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text = vm_db_text(st, 2);
        _cleanup_free_ char *strings = malloc(strlen(text) + 2 * METRIC_DIMS_MAX + 1);
        if (!strings)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        metric_key m = { .ns = vm_db_text(st, 0), .name = vm_db_text(st, 1) };
        m.ndims = metrics_dims_decode(text, strings, m.dims);
        if (!has_dims(&m, dims, ndims) || seen++ < offset)
            continue;
        if (max && shown == max) {
            *ret_more = true;
            break;
        }
        if (fn(opaque, &m, err) < 0)
            return -1;
        shown++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "listing metrics", err);
    return 0;
}

int
metrics_statistics(vm_ctx *ctx, const metric_key *m, time_t start, time_t end, long period, const char *unit,
                   metric_stats **ret, size_t *ret_n, vm_error *err)
{
    *ret = NULL;
    *ret_n = 0;
    if (period <= 0 || end <= start)
        return 0;
    _cleanup_free_ char *dims = metrics_dims_encode(m);
    if (!dims)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    size_t nb = (size_t)((end - start + period - 1) / period);
    _cleanup_free_ metric_stats *b = calloc(nb, sizeof(*b));
    if (!b)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT d.ts, d.count, d.sum, d.min, d.max, d.unit FROM metric_data d "
                      "JOIN metrics m ON m.id = d.metric_id WHERE m.namespace = ? AND m.name = ? AND m.dims = ? "
                      "AND d.ts >= ? AND d.ts < ? AND (?6 IS NULL OR d.unit = ?6) ORDER BY d.ts",
                      &st, err) < 0 ||
        vm_db_bind(st, err, "tttiit", m->ns, m->name, dims, (long long)start, (long long)end, unit) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t k = (size_t)((sqlite3_column_int64(st, 0) - start) / period);
        double c = sqlite3_column_double(st, 1), s = sqlite3_column_double(st, 2);
        double lo = sqlite3_column_double(st, 3), hi = sqlite3_column_double(st, 4);
        if (k >= nb)
            continue;
        if (b[k].count == 0) {
            b[k].min = lo;
            b[k].max = hi;
            snprintf(b[k].unit, sizeof(b[k].unit), "%s", vm_db_text(st, 5));
        }
        b[k].count += c;
        b[k].sum += s;
        b[k].min = lo < b[k].min ? lo : b[k].min;
        b[k].max = hi > b[k].max ? hi : b[k].max;
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading metric points", err);
    size_t n = 0;
    for (size_t k = 0; k < nb; k++)
        if (b[k].count > 0) {
            b[n] = b[k];
            b[n].start = start + (time_t)k * period;
            n++;
        }
    *ret = b;
    *ret_n = n;
    b = NULL;
    return 0;
}
