/* Shared by the files of services/cloudwatch/: CloudWatch's parameter checks (cloudwatch.c) and the
 * alarm actions (alarms.c). */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "../../../metrics/metrics.h"
#include "../service.h"

/* InvalidParameterValue "The value V for parameter P is invalid." */
int cw_invalid(vm_error *err, const char *param, const char *value);
/* ISO 8601 (Query) or epoch seconds (JSON) */
int cw_parse_time(const char *param, const char *text, time_t *ret, vm_error *err);
int cw_parse_double(const char *param, const char *text, double *ret, vm_error *err);
/* <prefix>Dimensions.member.N.{Name,Value}; value_optional for filters */
int cw_parse_dims(const vm_params *p, const char *prefix, bool value_optional, metric_dim *dims, size_t *ret_n,
                  vm_error *err);
int cw_parse_name(const vm_params *p, const char *param, bool required, const char **ret, vm_error *err);
int cw_parse_unit(const vm_params *p, const char *param, const char **ret, vm_error *err);
/* NextToken = next (the offset of the next page) when more follow */
void cw_next_token(vm_node *result, bool more, long next);
/* Namespace, MetricName, Dimensions of a metric into it */
void cw_render_key(vm_node *it, const metric_key *m);

int cw_get_metric_data(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int cw_put_metric_alarm(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int cw_describe_alarms(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int cw_describe_alarms_for_metric(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                                  vm_error *err);
int cw_delete_alarms(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int cw_set_alarm_state(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int cw_describe_alarm_history(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                              vm_error *err);
int cw_enable_alarm_actions(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int cw_disable_alarm_actions(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int cw_tag_resource(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int cw_untag_resource(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int cw_list_tags_for_resource(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
