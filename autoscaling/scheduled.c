/* Scheduled actions: at StartTime (once), or at each time a Unix cron Recurrence names in its
 * TimeZone between StartTime and EndTime, the group's MinSize, MaxSize and DesiredCapacity become
 * the action's.  Each action keeps its next run; the controller runs the due ones, then computes the
 * next (a one-time action is deleted once it ran, as on AWS). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "asg_priv.h"

/* --- cron ---------------------------------------------------------------------------------------- */

typedef struct cron {
    unsigned long long minute; /* bit per value */
    unsigned long hour, dom, month, dow;
    bool dom_any, dow_any;
} cron;

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static int
cron_value(const char *s, size_t len, int lo, int hi, const char *const *names, int name_base, int *ret)
{
    if (len == 0 || len > 3)
        return -1;
    char buf[4];
    memcpy(buf, s, len);
    buf[len] = '\0';
    for (int i = 0; names && names[i]; i++)
        if (strcasecmp(buf, names[i]) == 0)
            return *ret = i + name_base, 0;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        v = v * 10 + (buf[i] - '0');
    }
    if (names == day_names && v == 7)
        v = 0; /* Sunday both ways */
    if (v < lo || v > hi)
        return -1;
    *ret = v;
    return 0;
}

/* One field: lists of *, N, N-M, each with an optional /step. */
static int
cron_field(const char *f, size_t flen, int lo, int hi, const char *const *names, int name_base,
           unsigned long long *ret, bool *any)
{
    *ret = 0;
    *any = flen == 1 && f[0] == '*';
    const char *end = f + flen;
    while (f < end) {
        const char *comma = memchr(f, ',', (size_t)(end - f));
        const char *pe = comma ? comma : end;
        const char *slash = memchr(f, '/', (size_t)(pe - f));
        const char *re = slash ? slash : pe;
        int a, b, step = 1;
        if (re - f == 1 && *f == '*') {
            a = lo, b = hi;
        } else {
            const char *dash = memchr(f, '-', (size_t)(re - f));
            if (cron_value(f, (size_t)((dash ? dash : re) - f), lo, hi, names, name_base, &a) < 0)
                return -1;
            b = a;
            if (dash && cron_value(dash + 1, (size_t)(re - dash - 1), lo, hi, names, name_base, &b) < 0)
                return -1;
            if (slash && !dash)
                b = hi;
        }
        if (slash) {
            char *se;
            long st = strtol(slash + 1, &se, 10);
            if (se != pe || st < 1 || st > hi)
                return -1;
            step = (int)st;
        }
        if (a > b)
            return -1;
        for (int v = a; v <= b; v += step)
            *ret |= 1ULL << v;
        f = comma ? comma + 1 : end;
    }
    return *ret ? 0 : -1;
}

static int
cron_parse(const char *text, cron *c)
{
    const char *f[5];
    size_t len[5], n = 0;
    const char *s = text;
    while (*s && n < 5) {
        s += strspn(s, " \t");
        if (!*s)
            break;
        f[n] = s;
        len[n] = strcspn(s, " \t");
        s += len[n++];
    }
    s += strspn(s, " \t");
    if (n != 5 || *s)
        return -1;
    unsigned long long v;
    bool any;
    *c = (cron){ 0 };
    if (cron_field(f[0], len[0], 0, 59, NULL, 0, &c->minute, &any) < 0)
        return -1;
    if (cron_field(f[1], len[1], 0, 23, NULL, 0, &v, &any) < 0)
        return -1;
    c->hour = (unsigned long)v;
    if (cron_field(f[2], len[2], 1, 31, NULL, 0, &v, &c->dom_any) < 0)
        return -1;
    c->dom = (unsigned long)v;
    if (cron_field(f[3], len[3], 1, 12, month_names, 1, &v, &any) < 0)
        return -1;
    c->month = (unsigned long)v;
    if (cron_field(f[4], len[4], 0, 7, day_names, 0, &v, &c->dow_any) < 0)
        return -1;
    c->dow = (unsigned long)v;
    return 0;
}

/* localtime in zone tz ("" or "UTC": UTC).  The daemon is single-threaded; TZ is set back. */
static void
zone_time(time_t t, const char *tz, struct tm *ret)
{
    if (!tz[0] || strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0) {
        gmtime_r(&t, ret);
        return;
    }
    const char *old = getenv("TZ");
    char saved[256] = "";
    bool had = old != NULL;
    if (had)
        snprintf(saved, sizeof(saved), "%s", old);
    setenv("TZ", tz, 1);
    tzset();
    localtime_r(&t, ret);
    if (had)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
}

/* The first minute at or after t that the expression names, in zone tz; 0 within none of 4 years. */
static time_t
cron_next(const cron *c, const char *tz, time_t t)
{
    t = (t + 59) / 60 * 60;
    for (int guard = 0; guard < 200000; guard++) {
        struct tm tm;
        zone_time(t, tz, &tm);
        bool day = c->dom_any || c->dow_any ? (c->dom >> tm.tm_mday & 1) && (c->dow >> tm.tm_wday & 1)
                                            : (c->dom >> tm.tm_mday & 1) || (c->dow >> tm.tm_wday & 1);
        if (!(c->month >> (tm.tm_mon + 1) & 1) || !day) {
            t += (time_t)(24 * 60 - tm.tm_hour * 60 - tm.tm_min) * 60; /* the next day's midnight */
            continue;
        }
        if (!(c->hour >> tm.tm_hour & 1)) {
            t += (time_t)(60 - tm.tm_min) * 60;
            continue;
        }
        if (!(c->minute >> tm.tm_min & 1)) {
            t += 60;
            continue;
        }
        return t;
    }
    return 0;
}

time_t
asg_cron_next(const char *recurrence, const char *tz, time_t after)
{
    cron c;
    return cron_parse(recurrence, &c) < 0 ? 0 : cron_next(&c, tz ? tz : "", after);
}

int
asg_cron_check(const char *recurrence, const char *tz, vm_error *err)
{
    cron c;
    if (cron_parse(recurrence, &c) < 0)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Given recurrence string '%s' is not a valid Unix cron expression (minute hour "
                            "day-of-month month day-of-week)",
                            recurrence);
    if (tz && tz[0] && strcmp(tz, "UTC") != 0 && strcmp(tz, "Etc/UTC") != 0) {
        char path[512];
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
        if (strstr(tz, "..") || tz[0] == '/' || access(path, R_OK) != 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "Invalid time zone: %s (an IANA time zone name)", tz);
    }
    return 0;
}

/* --- the store ----------------------------------------------------------------------------------- */

/* The next run at or after `after`, 0 when there is none (past EndTime). */
static time_t
next_run(const asg_scheduled *a, time_t after)
{
    if (!a->recurrence[0])
        return a->start_time >= after ? a->start_time : 0;
    cron c;
    if (cron_parse(a->recurrence, &c) < 0)
        return 0;
    time_t from = a->start_time > after ? a->start_time : after;
    time_t t = cron_next(&c, a->time_zone, from);
    return t && (!a->end_time || t <= a->end_time) ? t : 0;
}

#define SCHEDULED_COLS                                                                                                 \
    "group_name, name, arn, start_time, end_time, recurrence, time_zone, min_size, max_size, "                         \
    "desired, next_run"

static void
load(sqlite3_stmt *st, asg_scheduled *a)
{
    *a = (asg_scheduled){ 0 };
    snprintf(a->group, sizeof(a->group), "%s", vm_db_text(st, 0));
    snprintf(a->name, sizeof(a->name), "%s", vm_db_text(st, 1));
    snprintf(a->arn, sizeof(a->arn), "%s", vm_db_text(st, 2));
    a->start_time = sqlite3_column_int64(st, 3);
    a->end_time = sqlite3_column_int64(st, 4);
    snprintf(a->recurrence, sizeof(a->recurrence), "%s", vm_db_text(st, 5));
    snprintf(a->time_zone, sizeof(a->time_zone), "%s", vm_db_text(st, 6));
    a->min_size = sqlite3_column_int64(st, 7);
    a->max_size = sqlite3_column_int64(st, 8);
    a->desired = sqlite3_column_int64(st, 9);
    a->next_run = sqlite3_column_int64(st, 10);
}

int
asg_scheduled_put(vm_ctx *ctx, asg_scheduled *a, vm_error *err)
{
    time_t now = time(NULL);
    a->next_run = next_run(a, now);
    if (!a->next_run)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            a->recurrence[0] ? "The recurrence of scheduled action %s has no time before its end time"
                                             : "Given start time is in the past (scheduled action %s)",
                            a->name);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT OR REPLACE INTO asg_scheduled (" SCHEDULED_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "tttiittiiii", a->group, a->name, a->arn, (long long)a->start_time, (long long)a->end_time,
                   a->recurrence, a->time_zone, (long long)a->min_size, (long long)a->max_size, (long long)a->desired,
                   (long long)a->next_run) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording a scheduled action", err);
    return 0;
}

int
asg_scheduled_get(vm_ctx *ctx, const char *group, const char *name, asg_scheduled *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " SCHEDULED_COLS " FROM asg_scheduled WHERE group_name = ? AND name = ?",
                   "tt", group, name) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    load(st, ret);
    return 1;
}

int
asg_scheduled_delete(vm_ctx *ctx, const char *group, const char *name, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "DELETE FROM asg_scheduled WHERE group_name = ? AND name = ?", "tt", group,
                   name) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "deleting a scheduled action", err);
    if (sqlite3_changes(ctx->db) == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "Scheduled Update Group Action not found: %s", name);
    return 0;
}

static void
render(vm_node *it, const asg_scheduled *a)
{
    vm_node_str(it, "AutoScalingGroupName", NULL, a->group);
    vm_node_str(it, "ScheduledActionName", NULL, a->name);
    vm_node_str(it, "ScheduledActionARN", NULL, a->arn);
    /* StartTime and Time: the next run, as AWS shows it */
    vm_node_time(it, "Time", NULL, a->next_run);
    vm_node_time(it, "StartTime", NULL, a->next_run);
    if (a->end_time)
        vm_node_time(it, "EndTime", NULL, a->end_time);
    if (a->recurrence[0])
        vm_node_str(it, "Recurrence", NULL, a->recurrence);
    if (a->min_size >= 0)
        vm_node_int(it, "MinSize", NULL, a->min_size);
    if (a->max_size >= 0)
        vm_node_int(it, "MaxSize", NULL, a->max_size);
    if (a->desired >= 0)
        vm_node_int(it, "DesiredCapacity", NULL, a->desired);
    if (a->time_zone[0])
        vm_node_str(it, "TimeZone", NULL, a->time_zone);
}

int
asg_scheduled_render(vm_ctx *ctx, const asg_scheduled_filter *f, vm_node *list, bool *ret_more, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT " SCHEDULED_COLS " FROM asg_scheduled WHERE (?1 IS NULL OR group_name = ?1) AND next_run >= "
                                            "?2 AND (?3 = 0 OR next_run <= ?3) ORDER BY next_run, group_name, name",
                   "tii", f->group, (long long)f->start, (long long)f->end) < 0)
        return -1;
    long seen = 0, shown = 0;
    *ret_more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        asg_scheduled a;
        load(st, &a);
        bool want = f->nnames == 0;
        for (size_t i = 0; i < f->nnames && !want; i++)
            want = strcmp(f->names[i], a.name) == 0;
        if (!want || seen++ < f->offset)
            continue;
        if (shown == f->max) {
            *ret_more = true;
            break;
        }
        shown++;
        render(vm_node_item(list), &a);
    }
    return 0;
}

/* --- the controller's part ----------------------------------------------------------------------- */

int
asg_scheduled_round(vm_ctx *ctx, asg_group *g, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    time_t now = time(NULL);
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT " SCHEDULED_COLS
                   " FROM asg_scheduled WHERE group_name = ? AND next_run > 0 AND next_run <= ? ORDER BY next_run",
                   "ti", g->name, (long long)now) < 0)
        return -1;
    /* read all first: the loop writes the same table */
    asg_scheduled due[8];
    size_t n = 0;
    while (n < sizeof(due) / sizeof(due[0]) && sqlite3_step(st) == SQLITE_ROW)
        load(st, &due[n++]);
    sqlite3_reset(st);
    for (size_t i = 0; i < n; i++) {
        asg_scheduled *a = &due[i];
        long min = a->min_size >= 0 ? a->min_size : g->min_size, max = a->max_size >= 0 ? a->max_size : g->max_size;
        long desired = a->desired >= 0 ? a->desired : g->desired;
        if (min > max)
            max = min;
        desired = desired < min ? min : desired > max ? max : desired;
        char t[32], cause[600];
        vm_time_format(now, t, sizeof(t));
        snprintf(cause, sizeof(cause),
                 "At %s a scheduled action update of AutoScalingGroup constraints to min: %ld, max: %ld, desired: %ld "
                 "changing the desired capacity from %ld to %ld.",
                 t, min, max, desired, g->desired, desired);
        asg_group ng = *g;
        ng.min_size = min, ng.max_size = max, ng.desired = desired;
        /* the next run from the minute after this one; a one-time action is done */
        time_t nx = a->recurrence[0] ? next_run(a, now + 60) : 0;
        _cleanup_stmt_ sqlite3_stmt *up = NULL;
        if (vm_db_begin(ctx->db, err) < 0)
            return -1;
        if (asg_update_locked(ctx, &ng, cause, err) < 0 ||
            vm_db_prepare(ctx->db,
                          nx ? "UPDATE asg_scheduled SET next_run = ?3 WHERE group_name = ?1 AND name = ?2"
                             : "DELETE FROM asg_scheduled WHERE group_name = ?1 AND name = ?2",
                          &up, err) < 0) {
            vm_db_rollback(ctx->db);
            return -1;
        }
        if (vm_db_bind(up, err, nx ? "tti" : "tt", a->group, a->name, (long long)nx) < 0 ||
            sqlite3_step(up) != SQLITE_DONE || vm_db_commit(ctx->db, err) < 0) {
            vm_db_error(ctx->db, "running a scheduled action", err);
            vm_db_rollback(ctx->db);
            return -1;
        }
        *g = ng;
    }
    return 0;
}
