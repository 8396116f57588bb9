/* CloudWatch's metrics in the store: a metric is a namespace, a name and an exact set of dimensions;
 * its data points are statistic sets (SampleCount, Sum, Minimum, Maximum) stamped to the second, with
 * their unit and storage resolution.  Typed in, typed out: the CloudWatch service parses the wire
 * (services/cloudwatch/) and the daemon's sampler will put the AWS/EC2 metrics through the same
 * metrics_put.  No libvirt here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../vmmgr/core/ctx.h"

#define METRIC_DIMS_MAX 30
#define METRIC_NAME_MAX 255
#define METRIC_DIM_VALUE_MAX 1024

/* Borrowed strings: a request's, alive while it runs. */
typedef struct metric_dim {
    const char *name, *value;
} metric_dim;

typedef struct metric_key {
    const char *ns, *name;
    metric_dim dims[METRIC_DIMS_MAX];
    size_t ndims;
} metric_key;

typedef struct metric_datum {
    metric_key key;
    time_t ts;
    double count, sum, min, max;
    const char *unit; /* "None" when the caller gave none */
    int resolution;   /* 1 (high resolution) or 60 */
} metric_datum;

/* Records the points (one transaction), then metrics_maintain if this process has not in the last
 * minute.  The caller has checked them (names,
 * values, time window). */
int metrics_put(vm_ctx *ctx, const metric_datum *d, size_t n, vm_error *err);

/* CloudWatch's retention as of now: points older than 3 hours become 1-minute
 * statistic sets, those older than 15 days 5-minute ones, older than 63 days 1-hour ones, and those
 * older than 455 days go.  A statistic over any period still adds up (sets of sets). */
int metrics_maintain(vm_ctx *ctx, time_t now, vm_error *err);

/* ListMetrics: metrics of ns and name (NULL: any) having every dimension of dims (a NULL value
 * matches any value), with a point since `since` (0: in the two weeks CloudWatch lists), in a stable
 * order; skip the first `offset`, at most `max`.  fn gets each (strings valid during the call);
 * *ret_more says whether more follow. */
typedef int (*metrics_list_fn)(void *opaque, const metric_key *m, vm_error *err);
int metrics_list(vm_ctx *ctx, const char *ns, const char *name, const metric_dim *dims, size_t ndims, time_t since,
                 long offset, long max, metrics_list_fn fn, void *opaque, bool *ret_more, vm_error *err);

/* One period's statistics. */
typedef struct metric_stats {
    time_t start;
    double count, sum, min, max;
    char unit[32];
} metric_stats;

/* The points of exactly m (its dimension set, in any order) in [start, end), in periods of
 * `period` seconds from start, only of `unit` when not NULL: the non-empty periods, oldest first,
 * into *ret (owned by the caller). */
int metrics_statistics(vm_ctx *ctx, const metric_key *m, time_t start, time_t end, long period, const char *unit,
                       metric_stats **ret, size_t *ret_n, vm_error *err);
