/* What the files of the ELBv2 service share: helpers (errors, Marker paging, tags, ARNs) and the
 * action handlers the table in elbv2.c names. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "../../../elb/elb.h"
#include "../../core/node.h"
#include "../../core/params.h"
#include "../service.h"

#define ELB_PAGE 400

int elbv2_bad(vm_error *err, const char *fmt, const char *v);
int elbv2_exec_sql(vm_ctx *ctx, const char *sql, const char *const *args, size_t n, vm_error *err);
int elbv2_check_name(const char *name, const char *what, vm_error *err);
int elbv2_page_args(const vm_params *p, long *offset, long *size, vm_error *err);
void elbv2_next_marker(vm_node *result, size_t total, long offset, long size);
int elbv2_parse_tags(const vm_params *p, const char *prefix, bool values, char ***keys, char ***vals, size_t *n, vm_error *err);
int elbv2_put_tags(vm_ctx *ctx, const char *arn, char **keys, char **vals, size_t n, vm_error *err);
int elbv2_drop_tags(vm_ctx *ctx, const char *arn, vm_error *err);
int elbv2_lb_of_arn(vm_ctx *ctx, const char *arn, elb_lb *lb, vm_error *err);
int elbv2_tg_of_arn(vm_ctx *ctx, const char *arn, elb_tg *tg, vm_error *err);
int elbv2_create_lb(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_describe_lbs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_delete_lb(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_set_security_groups(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_set_subnets(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_create_tg(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_modify_tg(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_describe_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_delete_tg(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_register_targets(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_deregister_targets(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_describe_health(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_listener_of_arn(vm_ctx *ctx, const char *arn, elb_listener *l, elb_lb *lb, vm_error *err);
int elbv2_create_listener(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_modify_listener(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_describe_listeners(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_delete_listener(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_add_listener_certificates(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                                    vm_error *err);
int elbv2_remove_listener_certificates(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                                       vm_error *err);
int elbv2_describe_listener_certificates(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                                         vm_error *err);
int elbv2_create_rule(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_modify_rule(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_describe_rules(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int elbv2_delete_rule(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
