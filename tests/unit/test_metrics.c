#include <criterion/criterion.h>

#define VMMGR_SCRATCH_CTX
#include "tmpdir.h"
#include <stdlib.h>
#include <string.h>

#include "../../metrics/alarms.h"
#include "../../metrics/metrics.h"
#include "../../vmmgr/core/ctx.h"
#include "../../vmmgr/core/db.h"

TestSuite(metrics, .init = scratch_setup, .fini = scratch_teardown);

static long
rows(int span)
{
    sqlite3_stmt *st = NULL;
    vm_error err = { 0 };
    cr_assert_eq(vm_db_prepare(ctx->db, "SELECT count(*) FROM metric_data WHERE ?1 < 0 OR span = ?1", &st, &err), 0);
    sqlite3_bind_int(st, 1, span);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* n points of m, one every step seconds from t0, values 0..n-1 */
static void
put_series(const metric_key *m, time_t t0, long n, long step)
{
    metric_datum *d = calloc((size_t)n, sizeof(*d));
    for (long i = 0; i < n; i++)
        d[i] = (metric_datum){ .key = *m, .ts = t0 + i * step, .count = 1, .sum = (double)i, .min = (double)i,
                               .max = (double)i, .unit = "Count", .resolution = 1 };
    vm_error err = { 0 };
    cr_assert_eq(metrics_put(ctx, d, (size_t)n, &err), 0, "%s", err.msg);
    free(d);
}

Test(metrics, old_points_roll_into_coarser_tiers_and_add_up_the_same)
{
    metric_key m = { .ns = "AWS/EC2", .name = "CPUUtilization", .dims = { { "InstanceId", "i-0" } }, .ndims = 1 };
    time_t now = time(NULL) / 3600 * 3600;
    time_t t0 = now - 6 * 3600; /* two hours of 10-s points, 4 to 6 hours old */
    put_series(&m, t0, 720, 10);
    time_t old = now - 20 * 86400; /* an hour of 1-minute points 20 days old */
    metric_key m2 = m;
    m2.dims[0].value = "i-1";
    put_series(&m2, old, 60, 60);
    vm_error err = { 0 };
    cr_assert_eq(metrics_maintain(ctx, now + 120, &err), 0, "%s", err.msg);

    /* 3 hours: the 10-s points became one row a minute; 15 days: the 1-minute ones 5-minute rows */
    cr_expect_eq(rows(0), 0);
    cr_expect_eq(rows(60), 120);
    cr_expect_eq(rows(300), 12);
    metric_stats *b = NULL;
    size_t n = 0;
    cr_assert_eq(metrics_statistics(ctx, &m, t0, t0 + 7200, 3600, NULL, &b, &n, &err), 0);
    cr_assert_eq(n, 2);
    /* the first hour: values 0..359 */
    cr_expect_eq(b[0].count, 360);
    cr_expect_eq(b[0].sum, 359.0 * 360 / 2);
    cr_expect_eq(b[0].min, 0);
    cr_expect_eq(b[0].max, 359);
    cr_expect_eq(b[1].min, 360);
    free(b);
    cr_assert_eq(metrics_statistics(ctx, &m2, old, old + 3600, 300, NULL, &b, &n, &err), 0);
    cr_assert_eq(n, 12);
    cr_expect_eq(b[1].count, 5);
    cr_expect_eq(b[1].sum, 5 + 6 + 7 + 8 + 9);
    free(b);

    /* a second maintenance finds nothing to do; 455 days later everything has gone */
    cr_assert_eq(metrics_maintain(ctx, now + 240, &err), 0);
    cr_expect_eq(rows(60), 120);
    cr_assert_eq(metrics_maintain(ctx, now + 500L * 86400, &err), 0);
    cr_expect_eq(rows(-1), 0);
}

/* A maintenance asked for runs even when a put of this process maintained less than a minute ago
 * (the put's own maintenance is what is limited to once a minute). */
Test(metrics, maintenance_asked_for_right_after_a_put_still_rolls)
{
    metric_key m = { .ns = "AWS/EC2", .name = "CPUUtilization", .dims = { { "InstanceId", "i-0" } }, .ndims = 1 };
    time_t real = time(NULL);
    time_t c = (real - 3 * 3600) / 60 * 60; /* a minute just young enough to stay at the put */
    put_series(&m, c, 6, 10);
    cr_expect_eq(rows(0), 6);
    vm_error err = { 0 };
    time_t later = c + 3 * 3600 + 60; /* at most a minute after the put: the minute is now old */
    cr_assert_eq(metrics_maintain(ctx, later, &err), 0, "%s", err.msg);
    cr_expect_eq(rows(0), 0, "maintenance %ld s after a put's did nothing", (long)(later - real));
    cr_expect_eq(rows(60), 1);
}

static long
alarm_state_of(const char *name)
{
    sqlite3_stmt *st = NULL;
    vm_error err = { 0 };
    cr_assert_eq(vm_db_prepare(ctx->db, "SELECT state FROM alarms WHERE name = ?", &st, &err), 0);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    long s = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return s;
}

static void
put_at(const metric_key *m, time_t ts, double v)
{
    metric_datum d = { .key = *m, .ts = ts, .count = 1, .sum = v, .min = v, .max = v, .unit = "Percent",
                       .resolution = 1 };
    vm_error err = { 0 };
    cr_assert_eq(metrics_put(ctx, &d, 1, &err), 0, "%s", err.msg);
}

Test(metrics, alarm_evaluation_follows_datapoints_to_alarm_and_missing_data)
{
    metric_key m = { .ns = "AWS/EC2", .name = "CPUUtilization", .dims = { { "InstanceId", "i-0" } }, .ndims = 1 };
    alarm_def d = { .name = "high", .actions_enabled = true, .metric = m, .statistic = "Average", .period = 10,
                    .evaluation_periods = 3, .datapoints_to_alarm = 2, .threshold = 50,
                    .comparison = "GreaterThanThreshold", .treat_missing = "missing" };
    d.actions[ALARM_ALARM][0] = "arn:aws:autoscaling:us-east-1:1:scalingPolicy:x:autoScalingGroupName/g:policyName/p";
    d.nactions[ALARM_ALARM] = 1;
    vm_error err = { 0 };
    time_t t = time(NULL) / 10 * 10;
    cr_assert_eq(alarm_put(ctx, &d, "us-east-1", t, &err), 0, "%s", err.msg);
    size_t changed = 9;
    /* no data, missing: stays INSUFFICIENT_DATA */
    cr_assert_eq(alarms_evaluate(ctx, t + 1, &changed, &err), 0, "%s", err.msg);
    cr_expect_eq(changed, 0);
    cr_expect_eq(alarm_state_of("high"), ALARM_INSUFFICIENT);
    /* one breaching point of 2 needed: OK */
    put_at(&m, t + 5, 90);
    cr_assert_eq(alarms_evaluate(ctx, t + 11, &changed, &err), 0);
    cr_expect_eq(alarm_state_of("high"), ALARM_OK);
    /* two: ALARM, once, with its action recorded */
    put_at(&m, t + 15, 95);
    cr_assert_eq(alarms_evaluate(ctx, t + 21, &changed, &err), 0);
    cr_expect_eq(changed, 1);
    cr_expect_eq(alarm_state_of("high"), ALARM_ALARM);
    cr_assert_eq(alarms_evaluate(ctx, t + 22, &changed, &err), 0); /* the same period again: nothing */
    cr_expect_eq(changed, 0);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(vm_db_prepare(ctx->db, "SELECT type, summary FROM alarm_history WHERE type != 'ConfigurationUpdate' ORDER BY id",
                               &st, &err), 0);
    const char *want[][2] = { { "StateUpdate", "Alarm updated from INSUFFICIENT_DATA to OK" },
                              { "StateUpdate", "Alarm updated from OK to ALARM" },
                              { "Action", "Failed to execute action arn:aws:autoscaling:us-east-1:1:scalingPolicy:x:"
                                          "autoScalingGroupName/g:policyName/p" } };
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_expect_str_eq(vm_db_text(st, 0), want[i][0]);
        cr_expect_str_eq(vm_db_text(st, 1), want[i][1]);
    }
    cr_expect_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    /* the points leave the window; ignore keeps the state, missing makes it INSUFFICIENT_DATA */
    d.treat_missing = "ignore";
    cr_assert_eq(alarm_put(ctx, &d, "us-east-1", t + 23, &err), 0);
    cr_assert_eq(alarms_evaluate(ctx, t + 61, &changed, &err), 0);
    cr_expect_eq(alarm_state_of("high"), ALARM_ALARM);
    d.treat_missing = "missing";
    cr_assert_eq(alarm_put(ctx, &d, "us-east-1", t + 62, &err), 0);
    cr_assert_eq(alarms_evaluate(ctx, t + 71, &changed, &err), 0);
    cr_expect_eq(alarm_state_of("high"), ALARM_INSUFFICIENT);
    /* notBreaching: OK; breaching: ALARM */
    d.treat_missing = "notBreaching";
    cr_assert_eq(alarm_put(ctx, &d, "us-east-1", t + 72, &err), 0);
    cr_assert_eq(alarms_evaluate(ctx, t + 81, &changed, &err), 0);
    cr_expect_eq(alarm_state_of("high"), ALARM_OK);
    d.treat_missing = "breaching";
    cr_assert_eq(alarm_put(ctx, &d, "us-east-1", t + 82, &err), 0);
    cr_assert_eq(alarms_evaluate(ctx, t + 91, &changed, &err), 0);
    cr_expect_eq(alarm_state_of("high"), ALARM_ALARM);
}

/* A gap in the data (a restarted sampler) is bridged by the points before it: the evaluation looks at
 * two periods more than EvaluationPeriods and judges the newest N points it finds there. */
Test(metrics, alarm_bridges_a_gap_with_the_points_before_it)
{
    metric_key m = { .ns = "AWS/EC2", .name = "CPUUtilization", .dims = { { "InstanceId", "i-0" } }, .ndims = 1 };
    alarm_def d = { .name = "high", .actions_enabled = true, .metric = m, .statistic = "Average", .period = 10,
                    .evaluation_periods = 3, .datapoints_to_alarm = 2, .threshold = 50,
                    .comparison = "GreaterThanThreshold", .treat_missing = "missing" };
    vm_error err = { 0 };
    time_t t = time(NULL) / 10 * 10;
    cr_assert_eq(alarm_put(ctx, &d, "us-east-1", t, &err), 0, "%s", err.msg);
    size_t changed = 0;
    for (int i = 0; i < 3; i++)
        put_at(&m, t + 5 + 10 * i, 90);
    cr_assert_eq(alarms_evaluate(ctx, t + 31, &changed, &err), 0, "%s", err.msg);
    cr_expect_eq(alarm_state_of("high"), ALARM_ALARM);
    /* two periods without data: the last 3 hold one point, the range all three */
    cr_assert_eq(alarms_evaluate(ctx, t + 51, &changed, &err), 0, "%s", err.msg);
    cr_expect_eq(changed, 0);
    cr_expect_eq(alarm_state_of("high"), ALARM_ALARM, "a gap of two periods made the alarm %ld", alarm_state_of("high"));
    /* a non-breaching point after the gap: the newest 3 are 90, 90, 10 */
    put_at(&m, t + 55, 10);
    cr_assert_eq(alarms_evaluate(ctx, t + 61, &changed, &err), 0, "%s", err.msg);
    cr_expect_eq(alarm_state_of("high"), ALARM_ALARM);
    /* a longer gap leaves one breaching point of 2 needed and the non-breaching one: OK */
    cr_assert_eq(alarms_evaluate(ctx, t + 81, &changed, &err), 0, "%s", err.msg);
    cr_expect_eq(alarm_state_of("high"), ALARM_OK);
}
