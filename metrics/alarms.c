#include "alarms.h"

#include <json-c/json.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "metrics_priv.h"

static void
json_putp(json_object **o)
{
    if (*o)
        json_object_put(*o);
}

static const char *const state_names[] = { "OK", "ALARM", "INSUFFICIENT_DATA" };

const char *
alarm_state_name(alarm_state s)
{
    return s <= ALARM_INSUFFICIENT ? state_names[s] : "INSUFFICIENT_DATA";
}

int
alarm_state_from_name(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, state_names[i]) == 0)
            return i;
    return -1;
}

/* the columns an alarm is read with (alarm_from_row) */
#define ALARM_COLUMNS                                                                                          \
    "name, arn, description, actions_enabled, ok_actions, alarm_actions, insufficient_actions, namespace, "   \
    "metric_name, dims, statistic, unit, period, evaluation_periods, datapoints_to_alarm, threshold, "          \
    "comparison, treat_missing, state, reason, reason_data, state_updated, config_updated, transitioned, "     \
    "evaluated_to"

/* what a row's strings are decoded into: alive as long as the row */
typedef struct alarm_buf {
    char *dims, *actions[3];
} alarm_buf;

static void
alarm_buf_free(alarm_buf *b)
{
    free(b->dims);
    for (int i = 0; i < 3; i++)
        free(b->actions[i]);
}

/* newline-separated ARNs into list (pointers into a copy kept in *keep) */
static int
split_actions(const char *text, char **keep, const char **list, size_t *n)
{
    *n = 0;
    *keep = strdup(text);
    if (!*keep)
        return -1;
    for (char *save = NULL, *t = strtok_r(*keep, "\n", &save); t && *n < ALARM_ACTIONS_MAX;
         t = strtok_r(NULL, "\n", &save))
        list[(*n)++] = t;
    return 0;
}

static int
alarm_from_row(sqlite3_stmt *st, alarm_rec *a, alarm_buf *b, time_t *evaluated_to)
{
    memset(a, 0, sizeof(*a));
    memset(b, 0, sizeof(*b));
    alarm_def *d = &a->def;
    d->name = vm_db_text(st, 0);
    a->arn = vm_db_text(st, 1);
    d->description = sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL : vm_db_text(st, 2);
    d->actions_enabled = sqlite3_column_int(st, 3);
    for (int k = 0; k < 3; k++)
        if (split_actions(vm_db_text(st, 4 + k), &b->actions[k], d->actions[k], &d->nactions[k]) < 0)
            return -1;
    d->metric.ns = vm_db_text(st, 7);
    d->metric.name = vm_db_text(st, 8);
    const char *dims = vm_db_text(st, 9);
    b->dims = malloc(strlen(dims) + 2 * METRIC_DIMS_MAX + 1);
    if (!b->dims)
        return -1;
    d->metric.ndims = metrics_dims_decode(dims, b->dims, d->metric.dims);
    d->statistic = vm_db_text(st, 10);
    d->unit = sqlite3_column_type(st, 11) == SQLITE_NULL ? NULL : vm_db_text(st, 11);
    d->period = sqlite3_column_int64(st, 12);
    d->evaluation_periods = sqlite3_column_int64(st, 13);
    d->datapoints_to_alarm = sqlite3_column_int64(st, 14);
    d->threshold = sqlite3_column_double(st, 15);
    d->comparison = vm_db_text(st, 16);
    d->treat_missing = vm_db_text(st, 17);
    a->state = (alarm_state)sqlite3_column_int(st, 18);
    a->reason = vm_db_text(st, 19);
    a->reason_data = vm_db_text(st, 20);
    a->state_updated = sqlite3_column_int64(st, 21);
    a->config_updated = sqlite3_column_int64(st, 22);
    a->transitioned = sqlite3_column_int64(st, 23);
    if (evaluated_to)
        *evaluated_to = sqlite3_column_int64(st, 24);
    return 0;
}

static char *
join_actions(const alarm_def *d, int k)
{
    size_t len = 1;
    for (size_t i = 0; i < d->nactions[k]; i++)
        len += strlen(d->actions[k][i]) + 1;
    char *s = calloc(1, len);
    for (size_t i = 0; s && i < d->nactions[k]; i++) {
        if (i)
            strcat(s, "\n");
        strcat(s, d->actions[k][i]);
    }
    return s;
}

/* ISO 8601 with milliseconds, as CloudWatch writes times in its JSON documents */
static const char *
iso_ms(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S.000+0000", &tm);
    return buf;
}

static int
history_add(vm_ctx *ctx, const char *name, time_t ts, const char *type, const char *summary, json_object *data,
            vm_error *err)
{
    sqlite3_stmt *st =
        vm_ctx_stmt(ctx, "INSERT INTO alarm_history(name, ts, type, summary, data) VALUES (?, ?, ?, ?, ?)", err);
    if (!st ||
        vm_db_bind(st, err, "tittt", name, (long long)ts, type, summary,
                   json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN)) < 0)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "recording an alarm's history", err);
}

static json_object *
config_json(const alarm_def *d)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "alarmName", json_object_new_string(d->name));
    json_object_object_add(o, "namespace", json_object_new_string(d->metric.ns));
    json_object_object_add(o, "metricName", json_object_new_string(d->metric.name));
    json_object *dl = json_object_new_array();
    for (size_t i = 0; i < d->metric.ndims; i++) {
        json_object *x = json_object_new_object();
        json_object_object_add(x, "name", json_object_new_string(d->metric.dims[i].name));
        json_object_object_add(x, "value", json_object_new_string(d->metric.dims[i].value));
        json_object_array_add(dl, x);
    }
    json_object_object_add(o, "dimensions", dl);
    json_object_object_add(o, "statistic", json_object_new_string(d->statistic));
    json_object_object_add(o, "period", json_object_new_int64(d->period));
    json_object_object_add(o, "evaluationPeriods", json_object_new_int64(d->evaluation_periods));
    json_object_object_add(o, "threshold", json_object_new_double(d->threshold));
    json_object_object_add(o, "comparisonOperator", json_object_new_string(d->comparison));
    json_object_object_add(o, "treatMissingData", json_object_new_string(d->treat_missing));
    json_object_object_add(o, "actionsEnabled", json_object_new_boolean(d->actions_enabled));
    return o;
}

/* Whether arn names a scaling policy of this endpoint (the Auto Scaling controller runs it while the
 * alarm is in ALARM: autoscaling/policy.c reads the alarm's state). */
static bool
known_policy(vm_ctx *ctx, const char *arn)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (strncmp(arn, "arn:aws:autoscaling:", 20) != 0 ||
        vm_db_stmt(ctx->db, &st, &ignore, "SELECT 1 FROM asg_policies WHERE arn = ?", "t", arn) < 0)
        return false;
    return sqlite3_step(st) == SQLITE_ROW;
}

/* An EC2 action's ARN, arn:aws:automate:REGION:ec2:stop|terminate|reboot: its verb, or NULL. */
const char *
alarm_ec2_verb(const char *arn)
{
    static const char *const verbs[] = { "stop", "terminate", "reboot", NULL };
    if (strncmp(arn, "arn:aws:automate:", 17) != 0)
        return NULL;
    const char *svc = strchr(arn + 17, ':');
    if (!svc || strncmp(svc, ":ec2:", 5) != 0)
        return NULL;
    for (const char *const *v = verbs; *v; v++)
        if (strcmp(svc + 5, *v) == 0)
            return *v;
    return NULL;
}

/* the value of the metric's InstanceId dimension, or NULL */
static const char *
instance_of(const alarm_def *d)
{
    for (size_t i = 0; i < d->metric.ndims; i++)
        if (strcmp(d->metric.dims[i].name, "InstanceId") == 0)
            return d->metric.dims[i].value;
    return NULL;
}

static int
action_entry(vm_ctx *ctx, const char *name, const char *arn, const char *error, time_t now, vm_error *err)
{
    char summary[1700], ts[40];
    snprintf(summary, sizeof(summary), "%s action %s", error ? "Failed to execute" : "Successfully executed", arn);
    _cleanup_(json_putp) json_object *o = json_object_new_object();
    json_object_object_add(o, "actionState", json_object_new_string(error ? "Failed" : "Succeeded"));
    json_object_object_add(o, "notificationResource", json_object_new_string(arn));
    json_object_object_add(o, "stateUpdateTimestamp", json_object_new_string(iso_ms(now, ts, sizeof(ts))));
    if (error)
        json_object_object_add(o, "error", json_object_new_string(error));
    return history_add(ctx, name, now, "Action", summary, o, err);
}

/* The actions of a state the alarm entered.  A scaling policy of this endpoint is executed (by the
 * Auto Scaling controller) and gets its Action entry now; an EC2 action is queued for the daemon
 * (alarm_ec2_pending), which writes the entry when it has run it; other ARNs have no executor here,
 * and the entry says so. */
static int
record_actions(vm_ctx *ctx, const alarm_def *d, alarm_state s, time_t now, vm_error *err)
{
    if (!d->actions_enabled)
        return 0;
    for (size_t i = 0; i < d->nactions[s]; i++) {
        const char *arn = d->actions[s][i];
        const char *instance = instance_of(d);
        if (alarm_ec2_verb(arn) && instance) {
            sqlite3_stmt *st = vm_ctx_stmt(
                ctx, "INSERT INTO alarm_ec2_actions (alarm_name, arn, instance_id, ts) VALUES (?, ?, ?, ?)", err);
            if (!st || vm_db_bind(st, err, "ttti", d->name, arn, instance, (long long)now) < 0)
                return -1;
            int rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc != SQLITE_DONE)
                return vm_db_error(ctx->db, "queueing an alarm's EC2 action", err);
            continue;
        }
        const char *why = alarm_ec2_verb(arn) ? "the alarm's metric has no InstanceId dimension"
                          : strncmp(arn, "arn:aws:automate:", 17) == 0
                              ? "this endpoint runs the EC2 actions stop, terminate and reboot (one host: no recover)"
                          : strncmp(arn, "arn:aws:autoscaling:", 20) == 0 ? "no scaling policy of this endpoint has this ARN"
                                                                          : "this endpoint does not run actions of this service";
        if (action_entry(ctx, d->name, arn, known_policy(ctx, arn) ? NULL : why, now, err) < 0)
            return -1;
    }
    return 0;
}

int
alarm_ec2_pending(vm_ctx *ctx, alarm_ec2_fn fn, void *opaque, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id, alarm_name, arn, instance_id FROM alarm_ec2_actions ORDER BY id", &st, err) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        alarm_ec2_action a = { sqlite3_column_int64(st, 0), vm_db_text(st, 1), vm_db_text(st, 2), vm_db_text(st, 3) };
        if (fn(opaque, &a, err) < 0)
            return -1;
    }
    return rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading the alarms' EC2 actions", err);
}

int
alarm_ec2_done(vm_ctx *ctx, const alarm_ec2_action *a, const char *error, time_t now, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    sqlite3_stmt *st = vm_ctx_stmt(ctx, "DELETE FROM alarm_ec2_actions WHERE id = ?", err);
    if (!st || vm_db_bind(st, err, "i", (long long)a->id) < 0)
        goto fail;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        vm_db_error(ctx->db, "dequeueing an alarm's EC2 action", err);
        goto fail;
    }
    /* another process ran it meanwhile: its entry is written */
    if (sqlite3_changes(ctx->db) == 0 || action_entry(ctx, a->alarm, a->arn, error, now, err) == 0)
        return vm_db_commit(ctx->db, err);
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

/* Changes the state of the alarm (within the caller's transaction): row, history, actions. */
static int
change_state(vm_ctx *ctx, const alarm_rec *a, alarm_state s, const char *reason, const char *reason_data,
             time_t now, vm_error *err)
{
    sqlite3_stmt *st = vm_ctx_stmt(ctx,
                                   "UPDATE alarms SET state = ?2, reason = ?3, reason_data = ?4, state_updated = ?5, "
                                   "transitioned = ?5 WHERE name = ?1",
                                   err);
    if (!st || vm_db_bind(st, err, "titti", a->def.name, (long long)s, reason, reason_data, (long long)now) < 0)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "changing an alarm's state", err);
    char summary[64];
    snprintf(summary, sizeof(summary), "Alarm updated from %s to %s", alarm_state_name(a->state),
             alarm_state_name(s));
    _cleanup_(json_putp) json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_string("1.0"));
    json_object *old = json_object_new_object(), *nw = json_object_new_object();
    json_object_object_add(old, "stateValue", json_object_new_string(alarm_state_name(a->state)));
    json_object_object_add(old, "stateReason", json_object_new_string(a->reason));
    json_object_object_add(nw, "stateValue", json_object_new_string(alarm_state_name(s)));
    json_object_object_add(nw, "stateReason", json_object_new_string(reason));
    json_object *rd = reason_data && *reason_data ? json_tokener_parse(reason_data) : NULL;
    if (rd)
        json_object_object_add(nw, "stateReasonData", rd);
    json_object_object_add(o, "oldState", old);
    json_object_object_add(o, "newState", nw);
    if (history_add(ctx, a->def.name, now, "StateUpdate", summary, o, err) < 0)
        return -1;
    return record_actions(ctx, &a->def, s, now, err);
}

/* the tags onto the alarm called name (replacing the values of keys it has), within the caller's
 * transaction; more than ALARM_TAGS_MAX after: InvalidParameterValue */
static int
put_tags(vm_ctx *ctx, const char *name, const alarm_tag *tags, size_t n, vm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = vm_ctx_stmt(ctx, "INSERT OR REPLACE INTO alarm_tags (alarm_name, key, value) VALUES (?, ?, ?)",
                                       err);
        if (!st || vm_db_bind(st, err, "ttt", name, tags[i].key, tags[i].value) < 0)
            return -1;
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return vm_db_error(ctx->db, "tagging an alarm", err);
    }
    sqlite3_stmt *st = vm_ctx_stmt(ctx, "SELECT count(*) FROM alarm_tags WHERE alarm_name = ?", err);
    if (!st || vm_db_bind(st, err, "t", name) < 0)
        return -1;
    int rc = sqlite3_step(st);
    long count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (count < 0)
        return vm_db_error(ctx->db, "counting an alarm's tags", err);
    if (count > ALARM_TAGS_MAX)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The alarm %s would have %ld tags; an alarm can have at most %d.", name, count,
                            ALARM_TAGS_MAX);
    return 0;
}

int
alarm_put(vm_ctx *ctx, const alarm_def *d, const char *region, time_t now, vm_error *err)
{
    _cleanup_(json_putp) json_object *o = NULL;
    _cleanup_free_ char *dims = metrics_dims_encode(&d->metric);
    _cleanup_free_ char *ok = join_actions(d, ALARM_OK), *al = join_actions(d, ALARM_ALARM),
                        *in = join_actions(d, ALARM_INSUFFICIENT);
    char arn[512];
    if (!dims || !ok || !al || !in)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    snprintf(arn, sizeof(arn), "arn:aws:cloudwatch:%s:%s:alarm:%s", region, ctx->account_id, d->name);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    /* both here: a goto fail must not skip a cleanup variable's initialisation */
    _cleanup_stmt_ sqlite3_stmt *ex = NULL, *st = NULL;
    if (vm_db_stmt(ctx->db, &ex, err, "SELECT 1 FROM alarms WHERE name = ?", "t", d->name) < 0)
        goto fail;
    bool update = sqlite3_step(ex) == SQLITE_ROW;
    /* an update replaces the configuration and keeps the state (and when it was last evaluated) */
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO alarms(name, arn, description, actions_enabled, ok_actions, alarm_actions, "
                      "insufficient_actions, namespace, metric_name, dims, statistic, unit, period, "
                      "evaluation_periods, datapoints_to_alarm, threshold, comparison, treat_missing, state, reason, "
                      "reason_data, state_updated, config_updated, transitioned) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                      "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 2, 'Unchecked: Initial alarm creation', "
                      "'', ?19, ?19, ?19) ON CONFLICT(name) DO UPDATE SET description = ?3, actions_enabled = ?4, "
                      "ok_actions = ?5, alarm_actions = ?6, insufficient_actions = ?7, namespace = ?8, "
                      "metric_name = ?9, dims = ?10, statistic = ?11, unit = ?12, period = ?13, "
                      "evaluation_periods = ?14, datapoints_to_alarm = ?15, threshold = ?16, comparison = ?17, "
                      "treat_missing = ?18, config_updated = ?19",
                      &st, err) < 0)
        goto fail;
    if (vm_db_bind(st, err, "tttittttttttiiidtti", d->name, arn, d->description, (long long)d->actions_enabled, ok, al,
                   in, d->metric.ns, d->metric.name, dims, d->statistic, d->unit, (long long)d->period,
                   (long long)d->evaluation_periods, (long long)d->datapoints_to_alarm, (double)d->threshold,
                   d->comparison, d->treat_missing, (long long)now) < 0 || sqlite3_step(st) != SQLITE_DONE) {
        vm_db_error(ctx->db, "recording an alarm", err);
        goto fail;
    }
    if (!update && put_tags(ctx, d->name, d->tags, d->ntags, err) < 0)
        goto fail;
    char summary[300];
    snprintf(summary, sizeof(summary), "Alarm \"%s\" %s", d->name, update ? "updated" : "created");
    o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_string("1.0"));
    json_object_object_add(o, "type", json_object_new_string(update ? "Update" : "Create"));
    json_object_object_add(o, update ? "updatedAlarm" : "createdAlarm", config_json(d));
    if (history_add(ctx, d->name, now, "ConfigurationUpdate", summary, o, err) < 0)
        goto fail;
    return vm_db_commit(ctx->db, err);
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

/* sql for each name, in one transaction, bound as fmt says: "t" (?1 the name) or "ti" (?2 value too); with
 * must_exist, a name that changes no row undoes all (ResourceNotFound) */
static int
each_alarm(vm_ctx *ctx, const char *sql, const char *fmt, const char *const *names, size_t n, int value,
           bool must_exist, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = vm_ctx_stmt(ctx, sql, err);
        if (!st || vm_db_bind(st, err, fmt, names[i], (long long)value) < 0)
            goto fail;
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            vm_db_error(ctx->db, "changing an alarm", err);
            goto fail;
        }
        if (must_exist && sqlite3_changes(ctx->db) == 0) {
            vm_error_set(err, VM_ERR_RESOURCE_NOT_FOUND, "The alarm %s does not exist.", names[i]);
            goto fail;
        }
    }
    return vm_db_commit(ctx->db, err);
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
alarms_delete(vm_ctx *ctx, const char *const *names, size_t n, vm_error *err)
{
    return each_alarm(ctx, "DELETE FROM alarms WHERE name = ?1", "t", names, n, 0, true, err);
}

int
alarms_set_actions(vm_ctx *ctx, const char *const *names, size_t n, bool enabled, vm_error *err)
{
    return each_alarm(ctx, "UPDATE alarms SET actions_enabled = ?2 WHERE name = ?1", "ti", names, n, enabled, false,
                      err);
}

/* the name of the alarm whose ARN is arn, into name (within the caller's transaction) */
static int
alarm_by_arn(vm_ctx *ctx, const char *arn, char name[256], vm_error *err)
{
    sqlite3_stmt *st = vm_ctx_stmt(ctx, "SELECT name FROM alarms WHERE arn = ?", err);
    if (!st || vm_db_bind(st, err, "t", arn) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(name, 256, "%s", vm_db_text(st, 0));
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "finding an alarm", err);
    return vm_error_set(err, VM_ERR_RESOURCE_NOT_FOUND_EXC, "The resource %s does not exist.", arn);
}

int
alarm_tags_add(vm_ctx *ctx, const char *arn, const alarm_tag *tags, size_t n, vm_error *err)
{
    char name[256];
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (alarm_by_arn(ctx, arn, name, err) < 0 || put_tags(ctx, name, tags, n, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

int
alarm_tags_remove(vm_ctx *ctx, const char *arn, const char *const *keys, size_t n, vm_error *err)
{
    char name[256];
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (alarm_by_arn(ctx, arn, name, err) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = vm_ctx_stmt(ctx, "DELETE FROM alarm_tags WHERE alarm_name = ? AND key = ?", err);
        if (!st || vm_db_bind(st, err, "tt", name, keys[i]) < 0)
            goto fail;
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            vm_db_error(ctx->db, "untagging an alarm", err);
            goto fail;
        }
    }
    return vm_db_commit(ctx->db, err);
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
alarm_tags_list(vm_ctx *ctx, const char *arn, alarm_tag_fn fn, void *opaque, vm_error *err)
{
    char name[256];
    if (alarm_by_arn(ctx, arn, name, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT key, value FROM alarm_tags WHERE alarm_name = ? ORDER BY key", "t",
                   name) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        alarm_tag t = { vm_db_text(st, 0), vm_db_text(st, 1) };
        if (fn(opaque, &t, err) < 0)
            return -1;
    }
    return rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading an alarm's tags", err);
}

/* reads the alarm called name within the caller's transaction: 1 found, 0 not, -1 error */
static int
alarm_get(vm_ctx *ctx, const char *name, sqlite3_stmt **st, alarm_rec *a, alarm_buf *b, time_t *evaluated_to,
          vm_error *err)
{
    if (vm_db_prepare(ctx->db, "SELECT " ALARM_COLUMNS " FROM alarms WHERE name = ?", st, err) < 0 ||
        vm_db_bind(*st, err, "t", name) < 0)
        return -1;
    int rc = sqlite3_step(*st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return vm_db_error(ctx->db, "reading an alarm", err);
    if (alarm_from_row(*st, a, b, evaluated_to) < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 1;
}

int
alarm_set_state(vm_ctx *ctx, const char *name, alarm_state s, const char *reason, const char *reason_data,
                time_t now, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    alarm_rec a;
    alarm_buf b = { 0 };
    int found = alarm_get(ctx, name, &st, &a, &b, NULL, err);
    int rc = found < 0 ? -1
             : !found  ? vm_error_set(err, VM_ERR_RESOURCE_NOT_FOUND, "The alarm %s does not exist.", name)
             : a.state == s
                 ? 0 /* as CloudWatch: no transition, nothing recorded */
                 : change_state(ctx, &a, s, reason, reason_data ? reason_data : "", now, err);
    alarm_buf_free(&b);
    if (rc < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

static bool
has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool
same_metric(const metric_key *a, const metric_key *b)
{
    if (strcmp(a->ns, b->ns) != 0 || strcmp(a->name, b->name) != 0 || a->ndims != b->ndims)
        return false;
    for (size_t i = 0; i < a->ndims; i++) {
        bool found = false;
        for (size_t k = 0; k < b->ndims && !found; k++)
            found = strcmp(a->dims[i].name, b->dims[k].name) == 0 && strcmp(a->dims[i].value, b->dims[k].value) == 0;
        if (!found)
            return false;
    }
    return true;
}

static bool
matches(const alarm_rec *a, const alarm_filter *f)
{
    bool named = f->nnames == 0;
    for (size_t i = 0; i < f->nnames && !named; i++)
        named = strcmp(f->names[i], a->def.name) == 0;
    if (!named || (f->prefix && !has_prefix(a->def.name, f->prefix)) || (f->state >= 0 && (int)a->state != f->state))
        return false;
    if (f->action_prefix) {
        bool found = false;
        for (int k = 0; k < 3 && !found; k++)
            for (size_t i = 0; i < a->def.nactions[k] && !found; i++)
                found = has_prefix(a->def.actions[k][i], f->action_prefix);
        if (!found)
            return false;
    }
    if (f->metric && !same_metric(&a->def.metric, f->metric))
        return false;
    return (!f->statistic || strcmp(f->statistic, a->def.statistic) == 0) &&
           (!f->unit || (a->def.unit && strcmp(f->unit, a->def.unit) == 0)) && (!f->period || f->period == a->def.period);
}

int
alarms_describe(vm_ctx *ctx, const alarm_filter *f, long offset, long max, alarm_fn fn, void *opaque, bool *ret_more,
                vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret_more = false;
    if (vm_db_prepare(ctx->db, "SELECT " ALARM_COLUMNS " FROM alarms ORDER BY name", &st, err) < 0)
        return -1;
    long seen = 0, shown = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        alarm_rec a;
        alarm_buf b;
        if (alarm_from_row(st, &a, &b, NULL) < 0) {
            alarm_buf_free(&b);
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        }
        int r = 0;
        if (matches(&a, f) && seen++ >= offset) {
            if (max && shown == max) {
                *ret_more = true;
                alarm_buf_free(&b);
                break;
            }
            r = fn(opaque, &a, err);
            shown++;
        }
        alarm_buf_free(&b);
        if (r < 0)
            return -1;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "listing alarms", err);
    return 0;
}

int
alarm_history(vm_ctx *ctx, const char *name, const char *type, time_t start, time_t end, bool oldest_first,
              long offset, long max, alarm_history_fn fn, void *opaque, bool *ret_more, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret_more = false;
    if (vm_db_stmt(ctx->db, &st, err,
                   oldest_first ? "SELECT name, ts, type, summary, data FROM alarm_history WHERE (?1 IS NULL OR "
                   "name = ?1) AND (?2 IS NULL OR type = ?2) AND ts >= ?3 AND (?4 = 0 OR ts < ?4) "
                   "ORDER BY ts, id LIMIT -1 OFFSET ?5"
                   : "SELECT name, ts, type, summary, data FROM alarm_history WHERE (?1 IS NULL OR "
                   "name = ?1) AND (?2 IS NULL OR type = ?2) AND ts >= ?3 AND (?4 = 0 OR ts < ?4) "
                   "ORDER BY ts DESC, id DESC LIMIT -1 OFFSET ?5",
                   "ttiii", name, type, (long long)start, (long long)end, (long long)offset) < 0)
        return -1;
    long shown = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (max && shown == max) {
            *ret_more = true;
            return 0;
        }
        alarm_history_item h = { .name = vm_db_text(st, 0), .ts = sqlite3_column_int64(st, 1),
                                 .type = vm_db_text(st, 2), .summary = vm_db_text(st, 3), .data = vm_db_text(st, 4) };
        if (fn(opaque, &h, err) < 0)
            return -1;
        shown++;
    }
    return rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading alarm history", err);
}

/* ---- evaluation ---------------------------------------------------------------------------------- */

static double
stat_value(const metric_stats *b, const char *statistic)
{
    if (strcmp(statistic, "SampleCount") == 0)
        return b->count;
    if (strcmp(statistic, "Sum") == 0)
        return b->sum;
    if (strcmp(statistic, "Minimum") == 0)
        return b->min;
    if (strcmp(statistic, "Maximum") == 0)
        return b->max;
    return b->sum / b->count;
}

static bool
breaches(const char *op, double v, double threshold)
{
    if (strcmp(op, "GreaterThanOrEqualToThreshold") == 0)
        return v >= threshold;
    if (strcmp(op, "GreaterThanThreshold") == 0)
        return v > threshold;
    if (strcmp(op, "LessThanThreshold") == 0)
        return v < threshold;
    return v <= threshold; /* LessThanOrEqualToThreshold */
}

static const char *
op_words(const char *op, bool negate)
{
    static const struct {
        const char *op, *yes, *no;
    } w[] = {
        { "GreaterThanOrEqualToThreshold", "greater than or equal to", "not greater than or equal to" },
        { "GreaterThanThreshold", "greater than", "not greater than" },
        { "LessThanThreshold", "less than", "not less than" },
        { "LessThanOrEqualToThreshold", "less than or equal to", "not less than or equal to" },
    };
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        if (strcmp(op, w[i].op) == 0)
            return negate ? w[i].no : w[i].yes;
    return op;
}

/* The periods before the last EvaluationPeriods that an evaluation also looks at (CloudWatch's
 * "evaluation range", 5 periods for 3): a gap in the data is bridged by the points before it. */
#define ALARM_RANGE_EXTRA 2

/* The state an alarm's evaluation range gives it, with CloudWatch's reason and reason data.  b holds the
 * range's points, oldest first.  With N of them or more the newest N are judged and missing data does
 * not matter; with fewer, the missing ones are what the alarm's TreatMissingData says: breaching or not,
 * not there at all (missing: judged by the points there are; none: INSUFFICIENT_DATA), or unknown
 * (ignore: the state changes only when the points there are decide it either way). */
static alarm_state
judge(const alarm_rec *a, time_t end, const metric_stats *b, size_t nb, time_t now, char **reason, char **data)
{
    const alarm_def *d = &a->def;
    long n = d->evaluation_periods, m = d->datapoints_to_alarm ? d->datapoints_to_alarm : n;
    if ((long)nb > n) {
        b += nb - (size_t)n;
        nb = (size_t)n;
    }
    long present = (long)nb, breaching = 0;
    for (size_t i = 0; i < nb; i++)
        breaching += breaches(d->comparison, stat_value(&b[i], d->statistic), d->threshold);
    long missing = n - present;
    const char *tm = d->treat_missing;
    if (strcmp(tm, "breaching") == 0)
        breaching += missing;
    bool ignore = strcmp(tm, "ignore") == 0;
    bool judged = present > 0 || strcmp(tm, "breaching") == 0 || strcmp(tm, "notBreaching") == 0;
    alarm_state s = !judged                                      ? (ignore ? a->state : ALARM_INSUFFICIENT)
                    : breaching >= m                             ? ALARM_ALARM
                    : ignore && present - breaching <= n - m     ? a->state /* could still be ALARM */
                                                                 : ALARM_OK;

    /* "Threshold Crossed: 2 out of the last 3 datapoints [95.2 (04/12/26 23:10:00), …] were greater
     * than the threshold (50.0) (minimum 2 datapoints for OK -> ALARM transition)." */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    char ts[40];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_string("1.0"));
    json_object_object_add(o, "queryDate", json_object_new_string(iso_ms(now, ts, sizeof(ts))));
    time_t start = nb && b[0].start < end - n * d->period ? b[0].start : end - n * d->period;
    json_object_object_add(o, "startDate", json_object_new_string(iso_ms(start, ts, sizeof(ts))));
    json_object_object_add(o, "statistic", json_object_new_string(d->statistic));
    json_object_object_add(o, "period", json_object_new_int64(d->period));
    json_object *recent = json_object_new_array(), *evaluated = json_object_new_array();
    if (!judged) {
        fprintf(f, "Insufficient Data: %ld datapoint%s %s unknown.", n, n == 1 ? "" : "s", n == 1 ? "was" : "were");
    } else {
        bool alarm = s == ALARM_ALARM;
        long shown = alarm ? breaching : present + (strcmp(tm, "notBreaching") == 0 ? missing : 0) - breaching;
        fprintf(f, "Threshold Crossed: %ld out of the last %ld datapoint%s [", shown, n, n == 1 ? "" : "s");
        for (size_t i = nb; i-- > 0;) {
            double v = stat_value(&b[i], d->statistic);
            struct tm t;
            gmtime_r(&b[i].start, &t);
            char when[32];
            strftime(when, sizeof(when), "%d/%m/%y %H:%M:%S", &t);
            fprintf(f, "%s%g (%s)", i + 1 == nb ? "" : ", ", v, when);
            json_object_array_add(recent, json_object_new_double(v));
            json_object *e = json_object_new_object();
            json_object_object_add(e, "timestamp", json_object_new_string(iso_ms(b[i].start, ts, sizeof(ts))));
            json_object_object_add(e, "sampleCount", json_object_new_double(b[i].count));
            json_object_object_add(e, "value", json_object_new_double(v));
            json_object_array_add(evaluated, e);
        }
        fprintf(f, "] %s %s the threshold (%g) (minimum %ld datapoint%s for %s transition).",
                shown == 1 ? "was" : "were", op_words(d->comparison, !alarm), d->threshold, alarm ? m : 1,
                (alarm ? m : 1) == 1 ? "" : "s", alarm ? "OK -> ALARM" : "ALARM -> OK");
    }
    fclose(f);
    json_object_object_add(o, "recentDatapoints", recent);
    json_object_object_add(o, "threshold", json_object_new_double(d->threshold));
    if (json_object_array_length(evaluated))
        json_object_object_add(o, "evaluatedDatapoints", evaluated);
    else
        json_object_put(evaluated);
    *data = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    *reason = text;
    return s;
}

static int
evaluate_one(vm_ctx *ctx, const char *name, time_t now, bool *ret_changed, vm_error *err)
{
    *ret_changed = false;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    alarm_rec a;
    alarm_buf b = { 0 };
    time_t evaluated_to = 0;
    int rc = alarm_get(ctx, name, &st, &a, &b, &evaluated_to, err);
    _cleanup_free_ metric_stats *pts = NULL;
    _cleanup_free_ char *reason = NULL, *data = NULL;
    size_t npts = 0;
    time_t end = rc > 0 ? now / a.def.period * a.def.period : 0;
    if (rc <= 0 || end <= evaluated_to) /* gone meanwhile, or evaluated at this period already */
        goto done;
    rc = metrics_statistics(ctx, &a.def.metric, end - (a.def.evaluation_periods + ALARM_RANGE_EXTRA) * a.def.period,
                            end, a.def.period, a.def.unit, &pts, &npts, err);
    if (rc < 0)
        goto done;
    alarm_state s = judge(&a, end, pts, npts, now, &reason, &data);
    if (!reason || !data) {
        rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        goto done;
    }
    sqlite3_stmt *up = vm_ctx_stmt(ctx, "UPDATE alarms SET evaluated_to = ? WHERE name = ?", err);
    if (!up) {
        rc = -1;
        goto done;
    }
    int step = vm_db_bind(up, err, "it", (long long)end, name) < 0 ? SQLITE_ERROR : sqlite3_step(up);
    sqlite3_reset(up);
    if (step != SQLITE_DONE) {
        rc = vm_db_error(ctx->db, "recording an alarm's evaluation", err);
        goto done;
    }
    if (s != a.state) {
        rc = change_state(ctx, &a, s, reason, data, now, err);
        *ret_changed = rc == 0;
    }
done:
    alarm_buf_free(&b);
    if (rc < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

int
alarms_evaluate(vm_ctx *ctx, time_t now, size_t *ret_changed, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    size_t changed = 0, n = 0, cap = 0;
    char **names = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT name FROM alarms WHERE evaluated_to < ? - ? % period ORDER BY name", "ii",
                   (long long)now, (long long)now) <
        0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **x = realloc(names, cap * sizeof(*names));
            if (!x)
                break;
            names = x;
        }
        if (!(names[n] = strdup(vm_db_text(st, 0))))
            break;
        n++;
    }
    int ret = rc == SQLITE_DONE ? 0 : vm_error_set(err, VM_ERR_INTERNAL, "listing alarms to evaluate");
    for (size_t i = 0; i < n && ret == 0; i++) {
        bool c = false;
        ret = evaluate_one(ctx, names[i], now, &c, err);
        changed += c;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (ret_changed)
        *ret_changed = changed;
    return ret;
}
