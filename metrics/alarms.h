/* CloudWatch metric alarms: their configuration and state in the store, their history, and their
 * evaluation (the daemon's loop).  Typed in, typed out; the CloudWatch service parses the wire.
 *
 * Evaluation, as CloudWatch does it: at the end of each of its periods an alarm reads the statistic
 * of its metric over its last EvaluationPeriods periods.  It is ALARM when DatapointsToAlarm of them
 * breach the threshold, OK otherwise; periods without data count as TreatMissingData says (missing:
 * they are not there, and with no data at all the state is INSUFFICIENT_DATA; ignore: the state
 * stays; breaching / notBreaching).  A change of state, its history entry, the actions it runs and
 * the period it was evaluated at are written in one transaction before any action acts, so a daemon
 * killed at any point neither loses a transition nor repeats one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "metrics.h"

#define ALARM_ACTIONS_MAX 5
#define ALARM_TAGS_MAX 50

typedef struct alarm_tag {
    const char *key, *value;
} alarm_tag;

/* Borrowed strings: the request's. */
typedef struct alarm_def {
    const char *name, *description; /* description may be NULL */
    bool actions_enabled;
    const char *actions[3][ALARM_ACTIONS_MAX]; /* indexed by alarm_state: OK, ALARM, INSUFFICIENT_DATA */
    size_t nactions[3];
    metric_key metric;
    const char *statistic; /* SampleCount, Average, Sum, Minimum or Maximum */
    const char *unit;      /* NULL: any */
    long period, evaluation_periods, datapoints_to_alarm;
    double threshold;
    const char *comparison;    /* GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThan… */
    const char *treat_missing; /* missing, ignore, breaching, notBreaching */
    const alarm_tag *tags;     /* given to a new alarm only (an update ignores them, as AWS does) */
    size_t ntags;
} alarm_def;

typedef enum alarm_state { ALARM_OK, ALARM_ALARM, ALARM_INSUFFICIENT } alarm_state;

const char *alarm_state_name(alarm_state s);
/* The state called name, or -1. */
int alarm_state_from_name(const char *name);

/* An alarm as described: def's strings and the state's, valid during the callback. */
typedef struct alarm_rec {
    alarm_def def;
    const char *arn;
    alarm_state state;
    const char *reason, *reason_data;
    time_t state_updated, config_updated, transitioned;
} alarm_rec;

/* PutMetricAlarm: creates the alarm in INSUFFICIENT_DATA or replaces its configuration, keeping its
 * state; a ConfigurationUpdate history entry either way. */
int alarm_put(vm_ctx *ctx, const alarm_def *def, const char *region, time_t now, vm_error *err);

/* DeleteAlarms: all or none (ResourceNotFound names the first that is not there).  Their history
 * stays. */
int alarms_delete(vm_ctx *ctx, const char *const *names, size_t n, vm_error *err);

/* Enable/DisableAlarmActions of the named alarms (names that are not there are skipped, as AWS does). */
int alarms_set_actions(vm_ctx *ctx, const char *const *names, size_t n, bool enabled, vm_error *err);

/* SetAlarmState: the state until the next evaluation; its actions run (when enabled). */
int alarm_set_state(vm_ctx *ctx, const char *name, alarm_state state, const char *reason, const char *reason_data,
                    time_t now, vm_error *err);

/* DescribeAlarms and DescribeAlarmsForMetric.  NULL or empty fields do not filter. */
typedef struct alarm_filter {
    const char *const *names;
    size_t nnames;
    const char *prefix, *action_prefix;
    int state; /* -1: any */
    const metric_key *metric; /* DescribeAlarmsForMetric: exactly this metric (its dimension set) */
    const char *statistic, *unit;
    long period; /* 0: any */
} alarm_filter;
typedef int (*alarm_fn)(void *opaque, const alarm_rec *a, vm_error *err);
/* In name order; skips `offset`, at most max (0: all); *ret_more: more follow. */
int alarms_describe(vm_ctx *ctx, const alarm_filter *f, long offset, long max, alarm_fn fn, void *opaque,
                    bool *ret_more, vm_error *err);

typedef struct alarm_history_item {
    const char *name, *type, *summary, *data;
    time_t ts;
} alarm_history_item;
typedef int (*alarm_history_fn)(void *opaque, const alarm_history_item *h, vm_error *err);
/* DescribeAlarmHistory: name and type NULL for any, [start, end) (0: open), newest first unless
 * oldest_first. */
int alarm_history(vm_ctx *ctx, const char *name, const char *type, time_t start, time_t end, bool oldest_first,
                  long offset, long max, alarm_history_fn fn, void *opaque, bool *ret_more, vm_error *err);

/* TagResource, UntagResource, ListTagsForResource of the alarm whose ARN is arn (none:
 * ResourceNotFoundException).  Tagging replaces the values of keys it has, and refuses to take an alarm
 * past ALARM_TAGS_MAX; untagging keys it does not have is no error.  Each is one transaction. */
int alarm_tags_add(vm_ctx *ctx, const char *arn, const alarm_tag *tags, size_t n, vm_error *err);
int alarm_tags_remove(vm_ctx *ctx, const char *arn, const char *const *keys, size_t n, vm_error *err);
typedef int (*alarm_tag_fn)(void *opaque, const alarm_tag *t, vm_error *err);
/* in key order */
int alarm_tags_list(vm_ctx *ctx, const char *arn, alarm_tag_fn fn, void *opaque, vm_error *err);

/* EC2 actions (arn:aws:automate:REGION:ec2:stop|terminate|reboot) of an alarm on a metric with an
 * InstanceId dimension: a transition queues them in its transaction; the daemon takes them in order,
 * runs each on the instance and then alarm_ec2_done writes its Action history entry (the error, NULL
 * when it ran) and ends it, in one transaction.  A daemon killed between the two runs it again:
 * stop and terminate are idempotent, a reboot may happen twice. */
typedef struct alarm_ec2_action {
    long long id;
    const char *alarm, *arn, *instance_id;
} alarm_ec2_action;
/* the verb of an EC2 action's ARN ("stop", "terminate", "reboot"), or NULL */
const char *alarm_ec2_verb(const char *arn);
typedef int (*alarm_ec2_fn)(void *opaque, const alarm_ec2_action *a, vm_error *err);
int alarm_ec2_pending(vm_ctx *ctx, alarm_ec2_fn fn, void *opaque, vm_error *err);
int alarm_ec2_done(vm_ctx *ctx, const alarm_ec2_action *a, const char *error, time_t now, vm_error *err);

/* The daemon's loop: evaluates every alarm whose period has ended since it was last evaluated.
 * *ret_changed (may be NULL) gets the number of alarms that changed state. */
int alarms_evaluate(vm_ctx *ctx, time_t now, size_t *ret_changed, vm_error *err);
