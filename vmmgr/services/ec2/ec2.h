/* EC2's wire edge: actions parsed from their Query parameters into the typed requests of compute,
 * storage and net, and their answers rendered.  Moving here one action at a time (RunInstances
 * first, which Auto Scaling calls too); the others still parse in their handlers. */
#pragma once

#include "../../core/ctx.h"
#include "../../core/node.h"
#include "../../core/params.h"

#include "../../compute/instance.h"

int ec2_run_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* What a parsed launch borrows from: freed with ec2_run_holder_free. */
typedef struct ec2_run_holder {
    char *request;
    vm_tag *tags;
    inst_block_device *bds;
    const char **gids, **gnames;
    vm_params *merged; /* the request over its launch template's parameters */
} ec2_run_holder;
void ec2_run_holder_free(ec2_run_holder *h);

/* RunInstances' parameters (over those of the LaunchTemplate it names) into req, which borrows from
 * p and h.  template_data: a launch template's data, where nothing is required and LaunchTemplate is
 * not looked at (the check at CreateLaunchTemplate; Auto Scaling's launches). */
int ec2_run_req_parse(vm_ctx *ctx, const vm_params *p, bool template_data, ec2_run_holder *h, inst_run_req *req,
                      vm_error *err);

/* MetadataOptions (metadata_options.c): the options under prefix ("MetadataOptions." or "") over
 * what md holds; InvalidParameterValue for a value EC2 does not take. */
int ec2_md_parse(const vm_params *p, const char *prefix, inst_md_opts *md, vm_error *err);
int ec2_modify_instance_metadata_options(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* Launch templates (launch_templates.c) */
int ec2_create_launch_template(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_create_launch_template_version(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_launch_templates(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_launch_template_versions(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_modify_launch_template(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_launch_template(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_launch_template_versions(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
