/* CloudWatch (SigV4 service `monitoring`, 2010-08-01) at the same endpoint, over the AWS Query
 * protocol (awscli 2.9, boto3 1.26) and AWS JSON 1.0 (boto3 since 1.42, whose bodies the JSON codec
 * flattens into the same Query names).  Each action parses its parameters once into the typed
 * requests of metrics/metrics.h; the checks and error codes are CloudWatch's:
 *   PutMetricData         custom namespaces (AWS/ is CloudWatch's own), Value, Values/Counts or
 *                         StatisticValues, Unit, StorageResolution 1|60, Timestamp within -2 weeks..+2 h
 *   ListMetrics           Namespace, MetricName, Dimensions (a value optional), RecentlyActive, paging
 *   GetMetricStatistics   Average|Sum|SampleCount|Minimum|Maximum per Period, at most 1,440 points
 * GetMetricData (metric_data.c) and the metric alarms (alarms.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../metrics/metrics.h"
#include "../../core/cleanup.h"
#include "../service.h"
#include "cw.h"

#define CW_MAX_DATA 1000
#define CW_MAX_VALUES 150
#define CW_MAX_POINTS 1440
#define CW_LIST_PAGE 500
#define CW_PAST_SEC (14L * 24 * 3600)
#define CW_FUTURE_SEC (2L * 3600)

static const char *const units[] = {
    "Seconds",          "Microseconds",      "Milliseconds",      "Bytes",            "Kilobytes",
    "Megabytes",        "Gigabytes",         "Terabytes",         "Bits",             "Kilobits",
    "Megabits",         "Gigabits",          "Terabits",          "Percent",          "Count",
    "Bytes/Second",     "Kilobytes/Second",  "Megabytes/Second",  "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second",      "Kilobits/Second",   "Megabits/Second",   "Gigabits/Second",  "Terabits/Second",
    "Count/Second",     "None",              NULL,
};

int
cw_invalid(vm_error *err, const char *param, const char *value)
{
    return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The value %s for parameter %s is invalid.", value,
                        param);
}

int
cw_parse_time(const char *param, const char *text, time_t *ret, vm_error *err)
{
    return vm_time_parse(text, ret) < 0 ? cw_invalid(err, param, text) : 0;
}

int
cw_parse_double(const char *param, const char *text, double *ret, vm_error *err)
{
    char *end;
    double v = text && *text ? strtod(text, &end) : NAN;
    if (!text || !*text || *end || !isfinite(v))
        return cw_invalid(err, param, text ? text : "");
    *ret = v;
    return 0;
}

/* Dimensions.member.N.{Name,Value} under prefix; value_optional for filters. */
int
cw_parse_dims(const vm_params *p, const char *prefix, bool value_optional, metric_dim *dims, size_t *ret_n,
           vm_error *err)
{
    char key[256];
    snprintf(key, sizeof(key), "%sDimensions.member", prefix);
    _cleanup_free_ int *idx = NULL;
    size_t n = 0;
    if (vm_params_indexes(p, key, &idx, &n, err) < 0)
        return -1;
    if (n > METRIC_DIMS_MAX)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The collection %sDimensions must not have more than %d members.", prefix, METRIC_DIMS_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *name = vm_params_getf(p, "%s.%d.Name", key, idx[i]);
        const char *value = vm_params_getf(p, "%s.%d.Value", key, idx[i]);
        if (!name || !*name)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %s.%d.Name is required.", key, idx[i]);
        if (strlen(name) > METRIC_NAME_MAX)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The parameter %s.%d.Name is longer than %d.",
                                key, idx[i], METRIC_NAME_MAX);
        if (!value && !value_optional)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %s.%d.Value is required.", key, idx[i]);
        if (value && (!*value || strlen(value) > METRIC_DIM_VALUE_MAX))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "The parameter %s.%d.Value must be 1 to %d characters.", key, idx[i],
                                METRIC_DIM_VALUE_MAX);
        for (size_t k = 0; k < i; k++)
            if (strcmp(dims[k].name, name) == 0)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                    "The dimension %s is given twice in %sDimensions.", name, prefix);
        dims[i] = (metric_dim){ name, value };
    }
    *ret_n = n;
    return 0;
}

int
cw_parse_name(const vm_params *p, const char *param, bool required, const char **ret, vm_error *err)
{
    const char *v = vm_params_get(p, param);
    if (!v && !required) {
        *ret = NULL;
        return 0;
    }
    if (!v || !*v)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %s is required.", param);
    if (strlen(v) > METRIC_NAME_MAX)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The parameter %s must be 1 to %d characters.",
                            param, METRIC_NAME_MAX);
    *ret = v;
    return 0;
}

int
cw_parse_unit(const vm_params *p, const char *param, const char **ret, vm_error *err)
{
    const char *u = vm_params_get(p, param);
    *ret = NULL;
    if (!u)
        return 0;
    for (const char *const *k = units; *k; k++)
        if (strcmp(*k, u) == 0) {
            *ret = *k;
            return 0;
        }
    return cw_invalid(err, param, u);
}

/* One MetricData member: its statistic set from Value, Values/Counts or StatisticValues. */
static int
parse_datum(const vm_params *p, const char *ns, int i, time_t now, metric_datum *d, vm_error *err)
{
    char pre[64], key[128];
    snprintf(pre, sizeof(pre), "MetricData.member.%d.", i);
    *d = (metric_datum){ .key.ns = ns, .resolution = 60, .ts = now };
    snprintf(key, sizeof(key), "%sMetricName", pre);
    if (cw_parse_name(p, key, true, &d->key.name, err) < 0 || cw_parse_dims(p, pre, false, d->key.dims, &d->key.ndims, err) < 0)
        return -1;
    snprintf(key, sizeof(key), "%sUnit", pre);
    if (cw_parse_unit(p, key, &d->unit, err) < 0)
        return -1;
    snprintf(key, sizeof(key), "%sStorageResolution", pre);
    const char *res = vm_params_get(p, key);
    if (res && strcmp(res, "1") != 0 && strcmp(res, "60") != 0)
        return cw_invalid(err, key, res);
    d->resolution = res ? atoi(res) : 60;
    snprintf(key, sizeof(key), "%sTimestamp", pre);
    const char *ts = vm_params_get(p, key);
    if (ts && cw_parse_time(key, ts, &d->ts, err) < 0)
        return -1;
    if (d->ts < now - CW_PAST_SEC || d->ts > now + CW_FUTURE_SEC)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The parameter %s must specify a time no more than two weeks in the past or two "
                            "hours in the future.",
                            key);

    const char *value = vm_params_getf(p, "%sValue", pre);
    bool stats = vm_params_getf(p, "%sStatisticValues.SampleCount", pre) || vm_params_getf(p, "%sStatisticValues.Sum", pre) ||
                 vm_params_getf(p, "%sStatisticValues.Minimum", pre) || vm_params_getf(p, "%sStatisticValues.Maximum", pre);
    snprintf(key, sizeof(key), "%sValues.member", pre);
    _cleanup_free_ int *vi = NULL;
    size_t nv = 0;
    if (vm_params_indexes(p, key, &vi, &nv, err) < 0)
        return -1;
    if ((value != NULL) + stats + (nv > 0) > 1)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "The parameters %sValue, %sStatisticValues and %sValues are mutually exclusive.", pre,
                            pre, pre);
    if (value) {
        snprintf(key, sizeof(key), "%sValue", pre);
        double v;
        if (cw_parse_double(key, value, &v, err) < 0)
            return -1;
        d->count = 1;
        d->sum = d->min = d->max = v;
        return 0;
    }
    if (stats) {
        const char *names[] = { "SampleCount", "Sum", "Minimum", "Maximum" };
        double *dst[] = { &d->count, &d->sum, &d->min, &d->max };
        for (int k = 0; k < 4; k++) {
            snprintf(key, sizeof(key), "%sStatisticValues.%s", pre, names[k]);
            const char *t = vm_params_get(p, key);
            if (!t)
                return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %s is required.", key);
            if (cw_parse_double(key, t, dst[k], err) < 0)
                return -1;
        }
        if (d->count <= 0 || d->min > d->max)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "The parameter %sStatisticValues needs SampleCount > 0 and Minimum <= Maximum.", pre);
        return 0;
    }
    if (nv == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                            "One of the parameters %sValue, %sStatisticValues or %sValues is required.", pre, pre,
                            pre);
    if (nv > CW_MAX_VALUES)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The collection %sValues must not have more than %d members.", pre, CW_MAX_VALUES);
    snprintf(key, sizeof(key), "%sCounts.member", pre);
    _cleanup_free_ int *ci = NULL;
    size_t nc = 0;
    if (vm_params_indexes(p, key, &ci, &nc, err) < 0)
        return -1;
    if (nc && nc != nv)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The collections %sValues and %sCounts must have the same number of members.", pre, pre);
    for (size_t k = 0; k < nv; k++) {
        double v, c = 1;
        snprintf(key, sizeof(key), "%sValues.member.%d", pre, vi[k]);
        if (cw_parse_double(key, vm_params_get(p, key), &v, err) < 0)
            return -1;
        if (nc) {
            snprintf(key, sizeof(key), "%sCounts.member.%d", pre, ci[k]);
            if (cw_parse_double(key, vm_params_get(p, key), &c, err) < 0)
                return -1;
            if (c <= 0)
                return cw_invalid(err, key, vm_params_get(p, key));
        }
        d->min = d->count == 0 || v < d->min ? v : d->min;
        d->max = d->count == 0 || v > d->max ? v : d->max;
        d->count += c;
        d->sum += v * c;
    }
    return 0;
}

static int
put_metric_data(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    const char *ns;
    if (cw_parse_name(p, "Namespace", true, &ns, err) < 0)
        return -1;
    if (strncmp(ns, "AWS/", 4) == 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The value %s for parameter Namespace is invalid: AWS/ namespaces are CloudWatch's own.",
                            ns);
    _cleanup_free_ int *idx = NULL;
    size_t n = 0;
    if (vm_params_indexes(p, "MetricData.member", &idx, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter MetricData is required.");
    if (n > CW_MAX_DATA)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The collection MetricData must not have more than %d members.", CW_MAX_DATA);
    _cleanup_free_ metric_datum *d = calloc(n, sizeof(*d));
    if (!d)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++)
        if (parse_datum(p, ns, idx[i], now, &d[i], err) < 0)
            return -1;
    return metrics_put(ctx, d, n, err);
}

typedef struct list_out {
    vm_node *list;
} list_out;

void
cw_next_token(vm_node *result, bool more, long next)
{
    char tok[32];
    if (!more)
        return;
    snprintf(tok, sizeof(tok), "%ld", next);
    vm_node_str(result, "NextToken", NULL, tok);
}

void
cw_render_key(vm_node *it, const metric_key *m)
{
    vm_node_str(it, "Namespace", NULL, m->ns);
    vm_node_str(it, "MetricName", NULL, m->name);
    vm_node *dl = vm_node_list(it, "Dimensions", NULL);
    for (size_t k = 0; k < m->ndims; k++) {
        vm_node *d = vm_node_item(dl);
        vm_node_str(d, "Name", NULL, m->dims[k].name);
        vm_node_str(d, "Value", NULL, m->dims[k].value);
    }
}

static int
list_one(void *opaque, const metric_key *m, vm_error *err)
{
    list_out *o = opaque;
    vm_node *it = vm_node_item(o->list);
    if (!it)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    cw_render_key(it, m);
    return 0;
}

static int
list_metrics(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *ns, *name, *recent = vm_params_get(p, "RecentlyActive");
    metric_dim dims[METRIC_DIMS_MAX];
    size_t nd = 0;
    long offset;
    if (cw_parse_name(p, "Namespace", false, &ns, err) < 0 || cw_parse_name(p, "MetricName", false, &name, err) < 0 ||
        cw_parse_dims(p, "", true, dims, &nd, err) < 0 ||
        vm_params_int(p, "NextToken", 0, 0, 1L << 30, &offset, err) < 0)
        return -1;
    if (recent && strcmp(recent, "PT3H") != 0)
        return cw_invalid(err, "RecentlyActive", recent);
    list_out o = { vm_node_list(result, "Metrics", NULL) };
    bool more = false;
    if (metrics_list(ctx, ns, name, dims, nd, recent ? time(NULL) - 3 * 3600 : 0, offset, CW_LIST_PAGE, list_one, &o,
                     &more, err) < 0)
        return -1;
    cw_next_token(result, more, offset + CW_LIST_PAGE);
    return 0;
}

static int
get_metric_statistics(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    metric_key m = { 0 };
    const char *unit, *st = vm_params_get(p, "StartTime"), *et = vm_params_get(p, "EndTime");
    time_t start, end;
    long period;
    if (cw_parse_name(p, "Namespace", true, &m.ns, err) < 0 || cw_parse_name(p, "MetricName", true, &m.name, err) < 0 ||
        cw_parse_dims(p, "", false, m.dims, &m.ndims, err) < 0 || cw_parse_unit(p, "Unit", &unit, err) < 0)
        return -1;
    if (!st || !et || !vm_params_get(p, "Period"))
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %s is required.",
                            !st ? "StartTime" : !et ? "EndTime" : "Period");
    if (cw_parse_time("StartTime", st, &start, err) < 0 || cw_parse_time("EndTime", et, &end, err) < 0 ||
        vm_params_int(p, "Period", 0, 1, 1L << 30, &period, err) < 0)
        return -1;
    if (period != 1 && period != 5 && period != 10 && period != 30 && period % 60 != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The parameter Period must be 1, 5, 10, 30 or a multiple of 60.");
    /* as CloudWatch does for data under 15 days old: the periods start on a whole minute */
    if (period >= 60)
        start -= ((start % 60) + 60) % 60;
    if (start >= end)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The parameter StartTime must be less than the parameter EndTime.");
    long points = (long)((end - start + period - 1) / period);
    if (points > CW_MAX_POINTS)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "You have requested up to %ld datapoints, which exceeds the limit of %d. You may reduce "
                            "the datapoints requested by increasing Period, or decreasing the time range.",
                            points, CW_MAX_POINTS);
    if (vm_params_get(p, "ExtendedStatistics.member.1"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "ExtendedStatistics (percentiles) are not kept by this endpoint: its points are "
                            "statistic sets.");
    _cleanup_free_ const char **stats = NULL;
    size_t ns = 0;
    if (vm_params_list(p, "Statistics.member", &stats, &ns, err) < 0)
        return -1;
    if (ns == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter Statistics is required.");
    static const char *const known[] = { "SampleCount", "Average", "Sum", "Minimum", "Maximum", NULL };
    bool want[5] = { false };
    for (size_t i = 0; i < ns; i++) {
        int k = 0;
        while (known[k] && strcmp(known[k], stats[i]) != 0)
            k++;
        if (!known[k])
            return cw_invalid(err, "Statistics", stats[i]);
        want[k] = true;
    }
    _cleanup_free_ metric_stats *b = NULL;
    size_t nb = 0;
    if (metrics_statistics(ctx, &m, start, end, period, unit, &b, &nb, err) < 0)
        return -1;
    vm_node_str(result, "Label", NULL, m.name);
    vm_node *list = vm_node_list(result, "Datapoints", NULL);
    for (size_t i = 0; i < nb; i++) {
        vm_node *it = vm_node_item(list);
        vm_node_time(it, "Timestamp", NULL, b[i].start);
        double v[] = { b[i].count, b[i].sum / b[i].count, b[i].sum, b[i].min, b[i].max };
        for (int k = 0; k < 5; k++)
            if (want[k])
                vm_node_double(it, known[k], NULL, v[k]);
        vm_node_str(it, "Unit", NULL, b[i].unit);
    }
    return 0;
}

static const svc_action cloudwatch_actions[] = {
    /* the metric calls are data events: not audited (svc_action) */
    { "PutMetricData", put_metric_data, true },
    { "ListMetrics", list_metrics, true },
    { "GetMetricStatistics", get_metric_statistics, true },
    { "GetMetricData", cw_get_metric_data, true },
    { "PutMetricAlarm", cw_put_metric_alarm },
    { "DescribeAlarms", cw_describe_alarms },
    { "DescribeAlarmsForMetric", cw_describe_alarms_for_metric },
    { "DeleteAlarms", cw_delete_alarms },
    { "SetAlarmState", cw_set_alarm_state },
    { "DescribeAlarmHistory", cw_describe_alarm_history },
    { "EnableAlarmActions", cw_enable_alarm_actions },
    { "DisableAlarmActions", cw_disable_alarm_actions },
    { "TagResource", cw_tag_resource },
    { "UntagResource", cw_untag_resource },
    { "ListTagsForResource", cw_list_tags_for_resource },
    { NULL, NULL },
};

const svc_desc svc_cloudwatch = {
    .signing_name = "monitoring",
    .version = "2010-08-01",
    .xmlns = "http://monitoring.amazonaws.com/doc/2010-08-01/",
    .protocol = SVC_PROTO_QUERY,
    .json_target = "GraniteServiceVersion20100801",
    .json_namespace = "com.amazonaws.cloudwatch",
    .actions = cloudwatch_actions,
};
