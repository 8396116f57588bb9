/* EC2's wire edge: actions parsed from their Query parameters into the typed requests of compute,
 * storage and net, and their answers rendered.  Moving here a family at a time (RunInstances first,
 * which Auto Scaling calls too; then launch templates, metadata options, gateways and addresses);
 * the others still parse in their handlers. */
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

/* {"return": true}, the answer of the actions that answer nothing else. */
static inline int
ec2_render_true(vm_node *resp)
{
    return vm_node_bool(resp, "return", NULL, true) ? 0 : -1;
}

/* Internet and NAT gateways (gateways.c) */
int ec2_create_internet_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_attach_internet_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_detach_internet_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_internet_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_internet_gateways(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_create_nat_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_nat_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_nat_gateways(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* Elastic IPs (addresses.c) */
int ec2_allocate_address(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_associate_address(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_disassociate_address(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_release_address(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_addresses(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* Route tables (route_tables.c) */
int ec2_create_route_table(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_route_table(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_route_tables(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_create_route(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_replace_route(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_route(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_associate_route_table(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_disassociate_route_table(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_replace_route_table_association(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* VPCs (vpcs.c) */
int ec2_create_vpc(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_vpcs(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_vpc(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_vpc_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_modify_vpc_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_network_interfaces(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* Subnets (subnets.c) */
int ec2_create_subnet(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_subnets(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_subnet(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_modify_subnet_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* Security groups (security_groups.c) */
int ec2_create_security_group(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_security_groups(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_security_group(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_authorize_security_group_ingress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_authorize_security_group_egress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_revoke_security_group_ingress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_revoke_security_group_egress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_security_group_rules(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* EBS volumes and snapshots (volumes.c) */
int ec2_create_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_volumes(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_attach_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_detach_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_modify_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_volumes_modifications(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_create_snapshot(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_snapshots(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_snapshot(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_copy_snapshot(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* AMIs (images.c) */
int ec2_describe_images(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_import_image(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_deregister_image(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_create_image(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* Instances (instances.c) */
int ec2_describe_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_terminate_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_stop_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_start_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_reboot_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_get_console_output(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_instance_types(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_instance_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_modify_instance_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* Key pairs (key_pairs.c) */
int ec2_create_key_pair(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_import_key_pair(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_describe_key_pairs(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int ec2_delete_key_pair(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
