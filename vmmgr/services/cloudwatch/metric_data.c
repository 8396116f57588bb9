/* GetMetricData: several MetricStat queries at once over one time range, each answered with its
 * period's statistic, newest first unless ScanBy=TimestampAscending; MaxDatapoints across all
 * queries per page, NextToken for the rest.  Metric math (Expression) is refused for now. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "cw.h"

#define CW_MAX_QUERIES 500
#define CW_DEFAULT_MAX_DATAPOINTS 100800

typedef struct query {
    const char *id, *label, *stat, *unit;
    metric_key metric;
    long period;
    bool ret;
    metric_stats *pts;
    size_t npts;
} query;

static int
parse_query(const vm_params *p, int i, query *q, vm_error *err)
{
    char pre[64], key[128];
    snprintf(pre, sizeof(pre), "MetricDataQueries.member.%d.", i);
    q->id = vm_params_getf(p, "%sId", pre);
    if (!q->id || !*q->id)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %sId is required.", pre);
    bool ok = strlen(q->id) <= 255 && islower((unsigned char)q->id[0]);
    for (const char *c = q->id; ok && *c; c++)
        ok = isalnum((unsigned char)*c) || *c == '_';
    if (!ok)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The value %s for parameter %sId is invalid: it must start with a lowercase letter and "
                            "hold only letters, digits and underscores.",
                            q->id, pre);
    if (vm_params_getf(p, "%sExpression", pre))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Metric math (%sExpression) is not supported by this endpoint yet: give MetricStat.", pre);
    snprintf(key, sizeof(key), "%sReturnData", pre);
    if (vm_params_bool(p, key, true, &q->ret, err) < 0)
        return -1;
    q->label = vm_params_getf(p, "%sLabel", pre);
    snprintf(key, sizeof(key), "%sMetricStat.Metric.Namespace", pre);
    if (cw_parse_name(p, key, true, &q->metric.ns, err) < 0)
        return -1;
    snprintf(key, sizeof(key), "%sMetricStat.Metric.MetricName", pre);
    if (cw_parse_name(p, key, true, &q->metric.name, err) < 0)
        return -1;
    snprintf(key, sizeof(key), "%sMetricStat.Metric.", pre);
    if (cw_parse_dims(p, key, false, q->metric.dims, &q->metric.ndims, err) < 0)
        return -1;
    snprintf(key, sizeof(key), "%sMetricStat.Unit", pre);
    if (cw_parse_unit(p, key, &q->unit, err) < 0)
        return -1;
    snprintf(key, sizeof(key), "%sMetricStat.Period", pre);
    if (!vm_params_get(p, key) || !vm_params_getf(p, "%sMetricStat.Stat", pre))
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %sMetricStat.%s is required.", pre,
                            vm_params_get(p, key) ? "Stat" : "Period");
    if (vm_params_int(p, key, 0, 1, 1L << 30, &q->period, err) < 0)
        return -1;
    if (q->period != 1 && q->period != 5 && q->period != 10 && q->period != 30 && q->period % 60 != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The parameter %s must be 1, 5, 10, 30 or a multiple of 60.", key);
    static const char *const stats[] = { "SampleCount", "Average", "Sum", "Minimum", "Maximum", NULL };
    const char *stat = vm_params_getf(p, "%sMetricStat.Stat", pre);
    for (const char *const *k = stats; *k && !q->stat; k++)
        q->stat = strcmp(*k, stat) == 0 ? *k : NULL;
    if (!q->stat) {
        snprintf(key, sizeof(key), "%sMetricStat.Stat", pre);
        return cw_invalid(err, key, stat);
    }
    return 0;
}

static double
value_of(const metric_stats *b, const char *stat)
{
    switch (stat[0]) {
    case 'S':
        return stat[1] == 'a' ? b->count : b->sum;
    case 'A':
        return b->sum / b->count;
    case 'M':
        return stat[1] == 'i' ? b->min : b->max;
    }
    return 0;
}

int
cw_get_metric_data(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *st = vm_params_get(p, "StartTime"), *et = vm_params_get(p, "EndTime"), *scan = vm_params_get(p, "ScanBy");
    time_t start, end;
    long max, offset;
    if (!st || !et)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %s is required.", !st ? "StartTime" : "EndTime");
    if (cw_parse_time("StartTime", st, &start, err) < 0 || cw_parse_time("EndTime", et, &end, err) < 0 ||
        vm_params_int(p, "MaxDatapoints", CW_DEFAULT_MAX_DATAPOINTS, 1, 1L << 30, &max, err) < 0 ||
        vm_params_int(p, "NextToken", 0, 0, 1L << 40, &offset, err) < 0)
        return -1;
    if (start >= end)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The parameter StartTime must be less than the parameter EndTime.");
    if (scan && strcmp(scan, "TimestampDescending") != 0 && strcmp(scan, "TimestampAscending") != 0)
        return cw_invalid(err, "ScanBy", scan);
    bool ascending = scan && strcmp(scan, "TimestampAscending") == 0;
    _cleanup_free_ int *idx = NULL;
    size_t n = 0;
    if (vm_params_indexes(p, "MetricDataQueries.member", &idx, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter MetricDataQueries is required.");
    if (n > CW_MAX_QUERIES)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The collection MetricDataQueries must not have more than %d members.", CW_MAX_QUERIES);
    query *q = calloc(n, sizeof(*q));
    if (!q)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = parse_query(p, idx[i], &q[i], err);
        for (size_t k = 0; k < i && rc == 0; k++)
            if (strcmp(q[k].id, q[i].id) == 0)
                rc = vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The Id %s is used by two queries.", q[i].id);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* periods start on a whole minute for minute periods, as GetMetricStatistics */
        time_t s = q[i].period >= 60 ? start - ((start % 60) + 60) % 60 : start - ((start % q[i].period) + q[i].period) % q[i].period;
        if (q[i].ret)
            rc = metrics_statistics(ctx, &q[i].metric, s, end, q[i].period, q[i].unit, &q[i].pts, &q[i].npts, err);
    }
    /* the page: `offset` points of the returned queries already given, at most max now */
    long skip = offset, room = max;
    bool more = false;
    vm_node *list = rc == 0 ? vm_node_list(result, "MetricDataResults", NULL) : NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!q[i].ret)
            continue;
        long total = (long)q[i].npts, from = skip < total ? skip : total;
        skip -= from;
        long count = total - from < room ? total - from : room;
        room -= count;
        if (from + count < total)
            more = true;
        if (offset > 0 && count == 0 && from == total)
            continue; /* given on an earlier page */
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "Id", NULL, q[i].id);
        vm_node_str(it, "Label", NULL, q[i].label ? q[i].label : q[i].metric.name);
        vm_node *ts = vm_node_list(it, "Timestamps", NULL), *vs = vm_node_list(it, "Values", NULL);
        for (long k = from; k < from + count; k++) {
            const metric_stats *b = &q[i].pts[ascending ? k : total - 1 - k];
            vm_node_time(ts, NULL, NULL, b->start);
            vm_node_double(vs, NULL, NULL, value_of(b, q[i].stat));
        }
        vm_node_str(it, "StatusCode", NULL, from + count < total ? "PartialData" : "Complete");
        vm_node_list(it, "Messages", NULL);
    }
    if (rc == 0) {
        vm_node_list(result, "Messages", NULL);
        cw_next_token(result, more, offset + max);
    }
    for (size_t i = 0; i < n; i++)
        free(q[i].pts);
    free(q);
    return rc;
}
