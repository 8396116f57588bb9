/* Auto Scaling's wire handlers kept outside autoscaling.c (its action table lists them). */
#pragma once

#include "../../../autoscaling/asg_priv.h"
#include "../service.h"

/* TargetGroupARNs.member.N: each an existing target group (ValidationError when not). */
int asg_parse_tg_arns(vm_ctx *ctx, const vm_params *p, char (**ret)[ELB_ID_LEN + 1], size_t *n, vm_error *err);
int asg_attach_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_detach_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_describe_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);

/* MaxRecords and NextToken (an offset) of a paged describe; NextToken when more follow */
int asg_page_args(const vm_params *p, long *offset, long *max, vm_error *err);
void asg_next_token(vm_node *result, bool more, long next);

/* scheduled.c */
int asg_put_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_describe_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_delete_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_batch_put_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_batch_delete_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                               vm_error *err);

/* a ValidationError whose message is fmt with value */
int asg_invalid(vm_error *err, const char *fmt, const char *value);

/* policies.c */
int asg_put_policy(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_describe_policies(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_delete_policy(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_execute_policy(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);

/* lifecycle.c: hooks, instance refresh, attach and detach */
/* LifecycleHookSpecificationList of CreateAutoScalingGroup */
int asg_parse_hook_specs(const vm_params *p, asg_hook **ret, size_t *ret_n, vm_error *err);
int asg_put_hook(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_describe_hooks(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_delete_hook(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_complete_action(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_heartbeat(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_hook_types(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_start_refresh(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_describe_refreshes(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_cancel_refresh(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_attach_instances(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_detach_instances(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);

/* tags.c */
/* Tags.member.N; group: the group they are for when known (Create), else each ResourceId
 * (CreateOrUpdateTags); ret_groups: the group of each */
int asg_parse_tags(const vm_params *p, const char *group, asg_tag **ret, const char ***ret_groups, size_t *ret_n,
                   vm_error *err);
int asg_put_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_delete_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_describe_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);

/* processes.c */
int asg_suspend_processes(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_resume_processes(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_process_types(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_standby_enter(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_standby_exit(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_set_instance_health(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
