/* CloudWatch's metric alarms at the endpoint: each action parses its parameters once into
 * metrics/alarms.h's typed requests, with CloudWatch's checks and error codes.
 *   PutMetricAlarm            one metric (no metric math), Statistic (no percentiles), Period 10, 30
 *                             or n×60 with Period × EvaluationPeriods ≤ one day, DatapointsToAlarm ≤
 *                             EvaluationPeriods, the four threshold comparisons, TreatMissingData,
 *                             up to 5 actions per state given as ARNs (EC2 actions only on a metric
 *                             with an InstanceId dimension)
 *   DescribeAlarms            AlarmNames, AlarmNamePrefix, StateValue, ActionPrefix, AlarmTypes, paging
 *   DescribeAlarmsForMetric   the alarms on exactly one metric (and Statistic, Period, Unit)
 *   DeleteAlarms              all or none (ResourceNotFound)
 *   SetAlarmState             until the next evaluation
 *   DescribeAlarmHistory      AlarmName, HistoryItemType, StartDate/EndDate, ScanBy, paging
 *   Enable/DisableAlarmActions
 *   TagResource, UntagResource, ListTagsForResource   of alarms, by ARN; PutMetricAlarm's Tags on creation */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../metrics/alarms.h"
#include "../../core/cleanup.h"
#include "cw.h"

#define CW_ALARM_PAGE 100
#define CW_NAMES_MAX 100

static const char *const statistics[] = { "SampleCount", "Average", "Sum", "Minimum", "Maximum", NULL };
static const char *const comparisons[] = { "GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
                                           "LessThanThreshold", "LessThanOrEqualToThreshold", NULL };
static const char *const treatments[] = { "breaching", "notBreaching", "ignore", "missing", NULL };

/* value is one of set (the set's own string into *ret), or InvalidParameterValue */
static int
one_of(const char *param, const char *value, const char *const *set, const char **ret, vm_error *err)
{
    for (const char *const *k = set; *k; k++)
        if (strcmp(*k, value) == 0) {
            *ret = *k;
            return 0;
        }
    return cw_invalid(err, param, value);
}

static int
parse_actions(const vm_params *p, const char *param, const char **list, size_t *n, vm_error *err)
{
    char key[64];
    snprintf(key, sizeof(key), "%s.member", param);
    _cleanup_free_ const char **v = NULL;
    size_t nv = 0;
    if (vm_params_list(p, key, &v, &nv, err) < 0)
        return -1;
    if (nv > ALARM_ACTIONS_MAX)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The collection %s must not have more than %d members.", param, ALARM_ACTIONS_MAX);
    for (size_t i = 0; i < nv; i++) {
        /* arn:partition:service:region:account:resource, one line */
        const char *c = v[i];
        int colons = 0;
        for (; *c && *c != '\n'; c++)
            colons += *c == ':';
        if (strncmp(v[i], "arn:", 4) != 0 || colons < 5 || *c || strlen(v[i]) > 1024)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid arn syntax: %s", v[i]);
        list[i] = v[i];
    }
    *n = nv;
    return 0;
}

/* Tags.member.N.{Key,Value}: at most ALARM_TAGS_MAX, keys 1-128 characters not starting "aws:" and given
 * once, values 0-256 characters */
static int
parse_tags(const vm_params *p, alarm_tag *tags, size_t *ret_n, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n = 0;
    if (vm_params_indexes(p, "Tags.member", &idx, &n, err) < 0)
        return -1;
    if (n > ALARM_TAGS_MAX)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The collection Tags must not have more than %d members.", ALARM_TAGS_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *key = vm_params_getf(p, "Tags.member.%d.Key", idx[i]);
        const char *value = vm_params_getf(p, "Tags.member.%d.Value", idx[i]);
        if (!key || !value)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter Tags.member.%d.%s is required.", idx[i],
                                !key ? "Key" : "Value");
        if (!*key || strlen(key) > 128 || strlen(value) > 256)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "A tag's key must be 1 to 128 characters and its value at most 256 (Tags.member.%d).",
                                idx[i]);
        if (strncmp(key, "aws:", 4) == 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "The tag key %s is reserved: keys starting with aws: are AWS's.", key);
        for (size_t k = 0; k < i; k++)
            if (strcmp(tags[k].key, key) == 0)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The tag key %s is given twice.", key);
        tags[i] = (alarm_tag){ key, value };
    }
    *ret_n = n;
    return 0;
}

int
cw_put_metric_alarm(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    alarm_def d = { .treat_missing = "missing" };
    alarm_tag tags[ALARM_TAGS_MAX];
    const char *stat = vm_params_get(p, "Statistic"), *op = vm_params_get(p, "ComparisonOperator");
    const char *tm = vm_params_get(p, "TreatMissingData"), *thr = vm_params_get(p, "Threshold");
    if (cw_parse_name(p, "AlarmName", true, &d.name, err) < 0)
        return -1;
    if (vm_params_get(p, "Metrics.member.1") || vm_params_get(p, "ThresholdMetricId"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Metric math (Metrics, ThresholdMetricId) is not supported by this endpoint yet: "
                            "give MetricName, Namespace and Statistic.");
    if (vm_params_get(p, "ExtendedStatistic"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "ExtendedStatistic (percentiles) is not kept by this endpoint: its points are "
                            "statistic sets. Give Statistic.");
    d.description = vm_params_get(p, "AlarmDescription");
    if (d.description && strlen(d.description) > 1024)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The parameter AlarmDescription must be at most 1024 characters.");
    if (cw_parse_name(p, "Namespace", true, &d.metric.ns, err) < 0 ||
        cw_parse_name(p, "MetricName", true, &d.metric.name, err) < 0 ||
        cw_parse_dims(p, "", false, d.metric.dims, &d.metric.ndims, err) < 0 || cw_parse_unit(p, "Unit", &d.unit, err) < 0)
        return -1;
    if (!stat || !op || !thr || !vm_params_get(p, "EvaluationPeriods") || !vm_params_get(p, "Period"))
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %s is required.",
                            !stat ? "Statistic" : !op ? "ComparisonOperator" : !thr ? "Threshold"
                            : !vm_params_get(p, "Period") ? "Period" : "EvaluationPeriods");
    if (one_of("Statistic", stat, statistics, &d.statistic, err) < 0 ||
        one_of("ComparisonOperator", op, comparisons, &d.comparison, err) < 0 ||
        (tm && one_of("TreatMissingData", tm, treatments, &d.treat_missing, err) < 0) ||
        cw_parse_double("Threshold", thr, &d.threshold, err) < 0 ||
        vm_params_int(p, "Period", 0, 1, 86400, &d.period, err) < 0 ||
        vm_params_int(p, "EvaluationPeriods", 0, 1, 86400, &d.evaluation_periods, err) < 0 ||
        vm_params_int(p, "DatapointsToAlarm", 0, 1, 86400, &d.datapoints_to_alarm, err) < 0 ||
        vm_params_bool(p, "ActionsEnabled", true, &d.actions_enabled, err) < 0)
        return -1;
    if (d.period != 10 && d.period != 30 && d.period % 60 != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The parameter Period must be 10, 30 or a multiple of 60.");
    if (d.period * d.evaluation_periods > 86400)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The product of EvaluationPeriods and Period must not exceed 86400 seconds (one day).");
    if (d.datapoints_to_alarm > d.evaluation_periods)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "DatapointsToAlarm (%ld) must be less than or equal to EvaluationPeriods (%ld).",
                            d.datapoints_to_alarm, d.evaluation_periods);
    if (parse_actions(p, "OKActions", d.actions[ALARM_OK], &d.nactions[ALARM_OK], err) < 0 ||
        parse_actions(p, "AlarmActions", d.actions[ALARM_ALARM], &d.nactions[ALARM_ALARM], err) < 0 ||
        parse_actions(p, "InsufficientDataActions", d.actions[ALARM_INSUFFICIENT], &d.nactions[ALARM_INSUFFICIENT],
                      err) < 0)
        return -1;
    if (parse_tags(p, tags, &d.ntags, err) < 0)
        return -1;
    /* an EC2 action acts on the instance of the alarm's metric */
    bool instance = false;
    for (size_t i = 0; i < d.metric.ndims; i++)
        instance |= strcmp(d.metric.dims[i].name, "InstanceId") == 0;
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < d.nactions[k]; i++)
            if (strncmp(d.actions[k][i], "arn:aws:automate:", 17) == 0 && !instance)
                return vm_error_set(err, VM_ERR_VALIDATION,
                                    "Invalid use of EC2 action %s. An EC2 action can only be used if the alarm is "
                                    "monitoring an EC2 instance (a metric with an InstanceId dimension).",
                                    d.actions[k][i]);
    d.tags = tags;
    return alarm_put(ctx, &d, ctx->region, time(NULL), err);
}

static void
render_alarm(vm_node *it, const alarm_rec *a)
{
    const alarm_def *d = &a->def;
    static const char *const lists[3] = { "OKActions", "AlarmActions", "InsufficientDataActions" };
    vm_node_str(it, "AlarmName", NULL, d->name);
    vm_node_str(it, "AlarmArn", NULL, a->arn);
    if (d->description)
        vm_node_str(it, "AlarmDescription", NULL, d->description);
    vm_node_time(it, "AlarmConfigurationUpdatedTimestamp", NULL, a->config_updated);
    vm_node_bool(it, "ActionsEnabled", NULL, d->actions_enabled);
    for (int k = 0; k < 3; k++) {
        vm_node *l = vm_node_list(it, lists[k], NULL);
        for (size_t i = 0; i < d->nactions[k]; i++)
            vm_node_str(l, NULL, NULL, d->actions[k][i]);
    }
    vm_node_str(it, "StateValue", NULL, alarm_state_name(a->state));
    vm_node_str(it, "StateReason", NULL, a->reason);
    if (*a->reason_data)
        vm_node_str(it, "StateReasonData", NULL, a->reason_data);
    vm_node_time(it, "StateUpdatedTimestamp", NULL, a->state_updated);
    cw_render_key(it, &d->metric);
    vm_node_str(it, "Statistic", NULL, d->statistic);
    vm_node_int(it, "Period", NULL, d->period);
    if (d->unit)
        vm_node_str(it, "Unit", NULL, d->unit);
    vm_node_int(it, "EvaluationPeriods", NULL, d->evaluation_periods);
    if (d->datapoints_to_alarm)
        vm_node_int(it, "DatapointsToAlarm", NULL, d->datapoints_to_alarm);
    vm_node_double(it, "Threshold", NULL, d->threshold);
    vm_node_str(it, "ComparisonOperator", NULL, d->comparison);
    vm_node_str(it, "TreatMissingData", NULL, d->treat_missing);
    vm_node_time(it, "StateTransitionedTimestamp", NULL, a->transitioned);
}

static int
add_alarm(void *opaque, const alarm_rec *a, vm_error *err)
{
    vm_node *it = vm_node_item(opaque);
    if (!it)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    render_alarm(it, a);
    return 0;
}

static int
parse_names(const vm_params *p, const char *param, const char ***ret, size_t *n, vm_error *err)
{
    char key[64];
    snprintf(key, sizeof(key), "%s.member", param);
    if (vm_params_list(p, key, ret, n, err) < 0)
        return -1;
    if (*n > CW_NAMES_MAX)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The collection %s must not have more than %d members.", param, CW_NAMES_MAX);
    return 0;
}

int
cw_describe_alarms(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    _cleanup_free_ const char **names = NULL, **types = NULL;
    size_t nn = 0, nt = 0;
    alarm_filter f = { .state = -1 };
    long offset, max;
    const char *state = vm_params_get(p, "StateValue");
    if (parse_names(p, "AlarmNames", &names, &nn, err) < 0 || vm_params_list(p, "AlarmTypes.member", &types, &nt, err) < 0 ||
        vm_params_int(p, "MaxRecords", CW_ALARM_PAGE, 1, CW_ALARM_PAGE, &max, err) < 0 ||
        vm_params_int(p, "NextToken", 0, 0, 1L << 30, &offset, err) < 0)
        return -1;
    if (vm_params_get(p, "ChildrenOfAlarmName") || vm_params_get(p, "ParentsOfAlarmName"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Composite alarms are not supported by this endpoint yet.");
    if (state && (f.state = alarm_state_from_name(state)) < 0)
        return cw_invalid(err, "StateValue", state);
    bool metric_alarms = nt == 0, composite = nt == 0;
    for (size_t i = 0; i < nt; i++) {
        if (strcmp(types[i], "MetricAlarm") == 0)
            metric_alarms = true;
        else if (strcmp(types[i], "CompositeAlarm") == 0)
            composite = true;
        else
            return cw_invalid(err, "AlarmTypes", types[i]);
    }
    f.names = names;
    f.nnames = nn;
    f.prefix = vm_params_get(p, "AlarmNamePrefix");
    f.action_prefix = vm_params_get(p, "ActionPrefix");
    if (nn && f.prefix)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "AlarmNames and AlarmNamePrefix cannot be given together.");
    vm_node *list = vm_node_list(result, "MetricAlarms", NULL);
    if (composite)
        vm_node_list(result, "CompositeAlarms", NULL);
    bool more = false;
    if (metric_alarms && alarms_describe(ctx, &f, offset, max, add_alarm, list, &more, err) < 0)
        return -1;
    cw_next_token(result, more, offset + max);
    return 0;
}

int
cw_describe_alarms_for_metric(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                              vm_error *err)
{
    (void)principal;
    metric_key m = { 0 };
    alarm_filter f = { .state = -1, .metric = &m };
    const char *stat = vm_params_get(p, "Statistic");
    if (cw_parse_name(p, "Namespace", true, &m.ns, err) < 0 || cw_parse_name(p, "MetricName", true, &m.name, err) < 0 ||
        cw_parse_dims(p, "", false, m.dims, &m.ndims, err) < 0 || cw_parse_unit(p, "Unit", &f.unit, err) < 0 ||
        (stat && one_of("Statistic", stat, statistics, &f.statistic, err) < 0) ||
        vm_params_int(p, "Period", 0, 1, 86400, &f.period, err) < 0)
        return -1;
    bool more = false;
    return alarms_describe(ctx, &f, 0, 0, add_alarm, vm_node_list(result, "MetricAlarms", NULL), &more, err);
}

int
cw_delete_alarms(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    _cleanup_free_ const char **names = NULL;
    size_t n = 0;
    if (parse_names(p, "AlarmNames", &names, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter AlarmNames is required.");
    return alarms_delete(ctx, names, n, err);
}

static int
set_actions(vm_ctx *ctx, const vm_params *p, bool on, vm_error *err)
{
    _cleanup_free_ const char **names = NULL;
    size_t n = 0;
    if (parse_names(p, "AlarmNames", &names, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter AlarmNames is required.");
    return alarms_set_actions(ctx, names, n, on, err);
}

int
cw_enable_alarm_actions(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    return set_actions(ctx, p, true, err);
}

int
cw_disable_alarm_actions(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    return set_actions(ctx, p, false, err);
}

int
cw_set_alarm_state(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    const char *name, *state = vm_params_get(p, "StateValue"), *reason = vm_params_get(p, "StateReason");
    const char *data = vm_params_get(p, "StateReasonData");
    if (cw_parse_name(p, "AlarmName", true, &name, err) < 0)
        return -1;
    if (!state || !reason)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter %s is required.",
                            !state ? "StateValue" : "StateReason");
    int s = alarm_state_from_name(state);
    if (s < 0)
        return cw_invalid(err, "StateValue", state);
    if (strlen(reason) > 1023)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The parameter StateReason must be at most 1023 characters.");
    if (data && (strlen(data) > 4000 || data[0] != '{'))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The parameter StateReasonData must be a JSON object of at most 4000 characters.");
    return alarm_set_state(ctx, name, (alarm_state)s, reason, data, time(NULL), err);
}

static int
add_history(void *opaque, const alarm_history_item *h, vm_error *err)
{
    vm_node *it = vm_node_item(opaque);
    if (!it)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    vm_node_str(it, "AlarmName", NULL, h->name);
    vm_node_str(it, "AlarmType", NULL, "MetricAlarm");
    vm_node_time(it, "Timestamp", NULL, h->ts);
    vm_node_str(it, "HistoryItemType", NULL, h->type);
    vm_node_str(it, "HistorySummary", NULL, h->summary);
    vm_node_str(it, "HistoryData", NULL, h->data);
    return 0;
}

int
cw_describe_alarm_history(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    static const char *const types[] = { "ConfigurationUpdate", "StateUpdate", "Action", NULL };
    const char *name = vm_params_get(p, "AlarmName"), *type = vm_params_get(p, "HistoryItemType");
    const char *sd = vm_params_get(p, "StartDate"), *ed = vm_params_get(p, "EndDate"), *scan = vm_params_get(p, "ScanBy");
    time_t start = 0, end = 0;
    long offset, max;
    if ((type && one_of("HistoryItemType", type, types, &type, err) < 0) ||
        (sd && cw_parse_time("StartDate", sd, &start, err) < 0) || (ed && cw_parse_time("EndDate", ed, &end, err) < 0) ||
        vm_params_int(p, "MaxRecords", CW_ALARM_PAGE, 1, CW_ALARM_PAGE, &max, err) < 0 ||
        vm_params_int(p, "NextToken", 0, 0, 1L << 30, &offset, err) < 0)
        return -1;
    if (scan && strcmp(scan, "TimestampDescending") != 0 && strcmp(scan, "TimestampAscending") != 0)
        return cw_invalid(err, "ScanBy", scan);
    bool more = false;
    if (alarm_history(ctx, name, type, start, end, scan && strcmp(scan, "TimestampAscending") == 0, offset, max,
                      add_history, vm_node_list(result, "AlarmHistoryItems", NULL), &more, err) < 0)
        return -1;
    cw_next_token(result, more, offset + max);
    return 0;
}

/* ResourceARN: required, at most 1024 characters; only alarms have tags here, so any other ARN is not
 * found */
static int
parse_arn(const vm_params *p, const char **ret, vm_error *err)
{
    const char *arn = vm_params_get(p, "ResourceARN");
    if (!arn)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter ResourceARN is required.");
    if (!*arn || strlen(arn) > 1024 || strncmp(arn, "arn:", 4) != 0)
        return cw_invalid(err, "ResourceARN", arn);
    *ret = arn;
    return 0;
}

int
cw_tag_resource(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    const char *arn;
    alarm_tag tags[ALARM_TAGS_MAX];
    size_t n = 0;
    if (parse_arn(p, &arn, err) < 0 || parse_tags(p, tags, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter Tags is required.");
    return alarm_tags_add(ctx, arn, tags, n, err);
}

int
cw_untag_resource(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    const char *arn;
    _cleanup_free_ const char **keys = NULL;
    size_t n = 0;
    if (parse_arn(p, &arn, err) < 0 || vm_params_list(p, "TagKeys.member", &keys, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter TagKeys is required.");
    if (n > ALARM_TAGS_MAX)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The collection TagKeys must not have more than %d members.", ALARM_TAGS_MAX);
    return alarm_tags_remove(ctx, arn, keys, n, err);
}

static int
add_tag(void *opaque, const alarm_tag *t, vm_error *err)
{
    vm_node *it = vm_node_item(opaque);
    if (!it)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    vm_node_str(it, "Key", NULL, t->key);
    vm_node_str(it, "Value", NULL, t->value);
    return 0;
}

int
cw_list_tags_for_resource(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *arn;
    if (parse_arn(p, &arn, err) < 0)
        return -1;
    return alarm_tags_list(ctx, arn, add_tag, vm_node_list(result, "Tags", NULL), err);
}
