/* `vmmgr cloudwatch …`: CloudWatch's commands, named and optioned as `aws cloudwatch` names them. */
#include <stddef.h>

#include "commands.h"

#define END { NULL, 0, NULL, NULL }
#define CW_TAGS { "tags", CLI_OPT_SHORTHAND, "Tags.member", "Key=K,Value=V … (a new alarm's; up to 50)" }

#define CW_DATUM "MetricData.member.1."
static const cli_opt cw_put_opts[] = {
    { "namespace", CLI_OPT_STR, "Namespace", "the metric's namespace (AWS/… is CloudWatch's own)" },
    { "metric-name", CLI_OPT_STR, CW_DATUM "MetricName", "the metric's name" },
    { "value", CLI_OPT_STR, CW_DATUM "Value", "one value" },
    { "statistic-values", CLI_OPT_STRUCT, CW_DATUM "StatisticValues", "SampleCount=N,Sum=S,Minimum=MIN,Maximum=MAX" },
    { "dimensions", CLI_OPT_DIMS, CW_DATUM "Dimensions.member", "NAME=VALUE,NAME2=VALUE2 (up to 30)" },
    { "unit", CLI_OPT_STR, CW_DATUM "Unit", "Seconds, Bytes, Percent, Count, Bytes/Second, … (None by default)" },
    { "timestamp", CLI_OPT_STR, CW_DATUM "Timestamp", "2026-12-04T20:00:00Z or epoch seconds (now by default)" },
    { "storage-resolution", CLI_OPT_STR, CW_DATUM "StorageResolution", "1 (high resolution) or 60 (default)" },
    END,
};
#define CW_DIMS_FILTER { "dimensions", CLI_OPT_SHORTHAND, "Dimensions.member", "Name=NAME,Value=VALUE …" }
static const cli_opt cw_stats_opts[] = {
    { "namespace", CLI_OPT_STR, "Namespace", "the metric's namespace" },
    { "metric-name", CLI_OPT_STR, "MetricName", "the metric's name" },
    CW_DIMS_FILTER,
    { "start-time", CLI_OPT_STR, "StartTime", "2026-12-04T20:00:00Z or epoch seconds" },
    { "end-time", CLI_OPT_STR, "EndTime", "the end (not included)" },
    { "period", CLI_OPT_STR, "Period", "seconds: 1, 5, 10, 30 or a multiple of 60" },
    { "statistics", CLI_OPT_LIST, "Statistics.member", "Average Sum SampleCount Minimum Maximum" },
    { "unit", CLI_OPT_STR, "Unit", "only the points of this unit" },
    END,
};
static const cli_opt cw_list_opts[] = {
    { "namespace", CLI_OPT_STR, "Namespace", "only this namespace" },
    { "metric-name", CLI_OPT_STR, "MetricName", "only this name" },
    CW_DIMS_FILTER,
    { "recently-active", CLI_OPT_STR, "RecentlyActive", "PT3H: only metrics with a point in the last 3 hours" },
    END,
};

static const cli_opt cw_put_alarm_opts[] = {
    { "alarm-name", CLI_OPT_STR, "AlarmName", "the alarm's name (a new one, or the one to replace)" },
    { "alarm-description", CLI_OPT_STR, "AlarmDescription", "free text" },
    { "namespace", CLI_OPT_STR, "Namespace", "the metric's namespace" },
    { "metric-name", CLI_OPT_STR, "MetricName", "the metric's name" },
    CW_DIMS_FILTER,
    { "statistic", CLI_OPT_STR, "Statistic", "Average, Sum, SampleCount, Minimum or Maximum" },
    { "period", CLI_OPT_STR, "Period", "seconds: 10, 30 or a multiple of 60" },
    { "evaluation-periods", CLI_OPT_STR, "EvaluationPeriods", "how many periods are looked at" },
    { "datapoints-to-alarm", CLI_OPT_STR, "DatapointsToAlarm", "how many of them must breach (all by default)" },
    { "threshold", CLI_OPT_STR, "Threshold", "the value compared with" },
    { "comparison-operator", CLI_OPT_STR, "ComparisonOperator",
      "GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold or LessThanOrEqualToThreshold" },
    { "treat-missing-data", CLI_OPT_STR, "TreatMissingData", "missing (default), ignore, breaching or notBreaching" },
    { "unit", CLI_OPT_STR, "Unit", "only the points of this unit" },
    { "alarm-actions", CLI_OPT_LIST, "AlarmActions.member", "ARNs run on entering ALARM (up to 5)" },
    { "ok-actions", CLI_OPT_LIST, "OKActions.member", "ARNs run on entering OK" },
    { "insufficient-data-actions", CLI_OPT_LIST, "InsufficientDataActions.member",
      "ARNs run on entering INSUFFICIENT_DATA" },
    { "actions-enabled", CLI_OPT_BOOL, "ActionsEnabled", "whether its actions run (default yes)" },
    CW_TAGS,
    END,
};
static const cli_opt cw_describe_alarms_opts[] = {
    { "alarm-names", CLI_OPT_LIST, "AlarmNames.member", "only these alarms" },
    { "alarm-name-prefix", CLI_OPT_STR, "AlarmNamePrefix", "only alarms whose name starts so" },
    { "state-value", CLI_OPT_STR, "StateValue", "OK, ALARM or INSUFFICIENT_DATA" },
    { "action-prefix", CLI_OPT_STR, "ActionPrefix", "only alarms with an action ARN starting so" },
    END,
};
static const cli_opt cw_alarm_names_opts[] = {
    { "alarm-names", CLI_OPT_LIST, "AlarmNames.member", "the alarms" },
    END,
};
static const cli_opt cw_set_state_opts[] = {
    { "alarm-name", CLI_OPT_STR, "AlarmName", "the alarm" },
    { "state-value", CLI_OPT_STR, "StateValue", "OK, ALARM or INSUFFICIENT_DATA (until its next evaluation)" },
    { "state-reason", CLI_OPT_STR, "StateReason", "why, for the history" },
    END,
};
static const cli_opt cw_history_opts[] = {
    { "alarm-name", CLI_OPT_STR, "AlarmName", "only this alarm's history (it outlives the alarm)" },
    { "history-item-type", CLI_OPT_STR, "HistoryItemType", "ConfigurationUpdate, StateUpdate or Action" },
    { "start-date", CLI_OPT_STR, "StartDate", "2026-12-04T20:00:00Z or epoch seconds" },
    { "end-date", CLI_OPT_STR, "EndDate", "the end (not included)" },
    { "scan-by", CLI_OPT_STR, "ScanBy", "TimestampDescending (default) or TimestampAscending" },
    END,
};

#define CW_ARN { "resource-arn", CLI_OPT_STR, "ResourceARN", "the alarm's ARN (AlarmArn)" }
static const cli_opt cw_tag_opts[] = {
    CW_ARN,
    CW_TAGS,
    END,
};
static const cli_opt cw_untag_opts[] = {
    CW_ARN,
    { "tag-keys", CLI_OPT_LIST, "TagKeys.member", "the keys to remove" },
    END,
};
static const cli_opt cw_arn_opts[] = {
    CW_ARN,
    END,
};

static const cli_cmd cloudwatch_cmds[] = {
    { "put-metric-data", "PutMetricData", cw_put_opts, "Record a value of a custom metric", true, "cloudwatch" },
    { "get-metric-statistics", "GetMetricStatistics", cw_stats_opts, "Show a metric's statistics per period", false,
      "cloudwatch" },
    { "list-metrics", "ListMetrics", cw_list_opts, "Show the metrics (namespace, name, dimensions)", false,
      "cloudwatch" },
    { "put-metric-alarm", "PutMetricAlarm", cw_put_alarm_opts, "Create or replace an alarm on a metric", true,
      "cloudwatch" },
    { "describe-alarms", "DescribeAlarms", cw_describe_alarms_opts, "Show alarms, their configuration and state",
      false, "cloudwatch" },
    { "delete-alarms", "DeleteAlarms", cw_alarm_names_opts, "Delete alarms (all or none)", true, "cloudwatch" },
    { "set-alarm-state", "SetAlarmState", cw_set_state_opts, "Set an alarm's state until its next evaluation", true,
      "cloudwatch" },
    { "describe-alarm-history", "DescribeAlarmHistory", cw_history_opts,
      "Show alarms' configuration changes, transitions and actions", false, "cloudwatch" },
    { "enable-alarm-actions", "EnableAlarmActions", cw_alarm_names_opts, "Let alarms run their actions", true,
      "cloudwatch" },
    { "disable-alarm-actions", "DisableAlarmActions", cw_alarm_names_opts, "Stop alarms running their actions",
      true, "cloudwatch" },
    { "tag-resource", "TagResource", cw_tag_opts, "Tag an alarm (by its ARN)", true, "cloudwatch" },
    { "untag-resource", "UntagResource", cw_untag_opts, "Remove tags from an alarm", true, "cloudwatch" },
    { "list-tags-for-resource", "ListTagsForResource", cw_arn_opts, "Show an alarm's tags", false, "cloudwatch" },
};

const cli_cmd *
cli_cloudwatch_cmds(size_t *ret_n)
{
    *ret_n = sizeof(cloudwatch_cmds) / sizeof(cloudwatch_cmds[0]);
    return cloudwatch_cmds;
}
