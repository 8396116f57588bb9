/* Auto Scaling's wire handlers kept outside autoscaling.c (its action table lists them). */
#pragma once

#include "../../../autoscaling/asg_priv.h"
#include "../service.h"

/* TargetGroupARNs.member.N: each an existing target group (ValidationError when not). */
int asg_parse_tg_arns(vm_ctx *ctx, const vm_params *p, char (**ret)[ELB_ID_LEN + 1], size_t *n, vm_error *err);
int asg_attach_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_detach_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
int asg_describe_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);
