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
