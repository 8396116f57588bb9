/* RunInstances: the Query parameters into an inst_run_req. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../compute/instance.h"
#include "template_store.h"
#include "../../core/cleanup.h"
#include "ec2.h"

/* BlockDeviceMapping.N.{DeviceName, Ebs.VolumeSize, Ebs.DeleteOnTermination} */
static int
block_devices(const vm_params *p, inst_block_device **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "BlockDeviceMapping", &idx, &n, err) < 0)
        return -1;
    _cleanup_free_ inst_block_device *bd = calloc(n + 1, sizeof(*bd));
    if (!bd)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char size[96], del[96];
        snprintf(size, sizeof(size), "BlockDeviceMapping.%d.Ebs.VolumeSize", idx[i]);
        snprintf(del, sizeof(del), "BlockDeviceMapping.%d.Ebs.DeleteOnTermination", idx[i]);
        bool d;
        bd[i].device_name = vm_params_getf(p, "BlockDeviceMapping.%d.DeviceName", idx[i]);
        if (!bd[i].device_name)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                                "The request must contain the parameter BlockDeviceMapping.%d.DeviceName", idx[i]);
        if (vm_params_int(p, size, 0, 1, 16384, &bd[i].volume_size_gib, err) < 0 ||
            vm_params_bool(p, del, true, &d, err) < 0)
            return -1;
        bd[i].delete_on_termination = vm_params_get(p, del) ? d : -1;
    }
    *ret = TAKE_PTR(bd);
    *ret_n = n;
    return 0;
}

/* SubnetId, PrivateIpAddress, SecurityGroupId.N, SecurityGroup.N, or the same in NetworkInterface.1 */
static int
network(const vm_params *p, net_launch_req *net, const char ***ids, const char ***names, vm_error *err)
{
    const char *nsid = vm_params_get(p, "NetworkInterface.1.SubnetId");
    const char *nip = vm_params_get(p, "NetworkInterface.1.PrivateIpAddress");
    if (vm_params_get(p, "NetworkInterface.2.DeviceIndex") || vm_params_get(p, "NetworkInterface.2.SubnetId"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "An instance has one network interface on this host");
    if (vm_params_get(p, "NetworkInterface.1.NetworkInterfaceId"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Attaching an existing network interface at launch is not offered by this host");
    const char *pub = vm_params_get(p, "NetworkInterface.1.AssociatePublicIpAddress");
    net->public_ip = !pub ? -1 : strcmp(pub, "true") == 0 ? 1 : strcmp(pub, "false") == 0 ? 0 : -2;
    if (net->public_ip == -2)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Value (%s) for parameter associatePublicIpAddress is invalid", pub);
    net->subnet_id = vm_params_get(p, "SubnetId");
    net->private_ip = vm_params_get(p, "PrivateIpAddress");
    net->zone = vm_params_get(p, "Placement.AvailabilityZone");
    const char *tenancy = vm_params_get(p, "Placement.Tenancy"), *pg = vm_params_get(p, "Placement.GroupName");
    if ((tenancy && strcmp(tenancy, "default") != 0) || (pg && *pg) || vm_params_get(p, "Placement.HostId") ||
        vm_params_get(p, "Placement.PartitionNumber") || vm_params_get(p, "Placement.Affinity"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Only Placement.AvailabilityZone (and Tenancy default) is offered by this host");
    if (nsid || nip || pub || vm_params_get(p, "NetworkInterface.1.SecurityGroupId.1")) {
        if (net->subnet_id || net->private_ip || vm_params_get(p, "SecurityGroupId.1") ||
            vm_params_get(p, "SecurityGroup.1"))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                                "Network interfaces and an instance-level security groups, subnet or private IP "
                                "address cannot be specified on the same request");
        net->subnet_id = nsid;
        net->private_ip = nip;
        return vm_params_list(p, "NetworkInterface.1.SecurityGroupId", ids, &net->n_group_ids, err);
    }
    if (vm_params_list(p, "SecurityGroupId", ids, &net->n_group_ids, err) < 0 ||
        vm_params_list(p, "SecurityGroup", names, &net->n_group_names, err) < 0)
        return -1;
    return 0;
}

void
ec2_run_holder_free(ec2_run_holder *h)
{
    free(h->request);
    free(h->tags);
    free(h->bds);
    free(h->gids);
    free(h->gnames);
    vm_params_free(h->merged);
    *h = (ec2_run_holder){ 0 };
}

/* RunInstances' own parameters over those of LaunchTemplate.{LaunchTemplateId|Name, Version}. */
static int
with_template(vm_ctx *ctx, const vm_params *p, ec2_run_holder *h, const vm_params **ret, vm_error *err)
{
    const char *id = vm_params_get(p, "LaunchTemplate.LaunchTemplateId");
    const char *name = vm_params_get(p, "LaunchTemplate.LaunchTemplateName");
    *ret = p;
    if (!id && !name && !vm_params_get(p, "LaunchTemplate.Version"))
        return 0;
    lt_obj lt;
    long v;
    _cleanup_(vm_params_freep) vm_params *data = NULL, *own = vm_params_new();
    if (!own || !(h->merged = vm_params_new()))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (lt_find(ctx, id, name, &lt, err) < 0 ||
        lt_version_resolve(ctx, &lt, vm_params_get(p, "LaunchTemplate.Version"), &v, err) < 0 ||
        lt_data_load(ctx, lt.id, v, &data, err) < 0)
        return -1;
    for (size_t i = 0; i < p->n; i++)
        if (strncmp(p->v[i].key, "LaunchTemplate.", 15) != 0 && vm_params_set(own, p->v[i].key, p->v[i].value) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (lt_params_overlay(data, own, h->merged, err) < 0)
        return -1;
    *ret = h->merged;
    return 0;
}

int
ec2_run_req_parse(vm_ctx *ctx, const vm_params *p, bool template_data, ec2_run_holder *h, inst_run_req *req,
                  vm_error *err)
{
    static const char *const skip[] = { "ClientToken", "DryRun", "Action", "Version", NULL };
    *h = (ec2_run_holder){ 0 };
    if (!template_data && with_template(ctx, p, h, &p, err) < 0)
        return -1;
    if (!(h->request = vm_params_canonical(p, skip)))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    *req = (inst_run_req){
        .image_id = template_data ? vm_params_get(p, "ImageId") : vm_params_require(p, "ImageId", err),
        .instance_type = vm_params_get(p, "InstanceType"),
        .client_token = vm_params_get(p, "ClientToken"),
        .request = h->request,
        .shutdown_behavior = vm_params_get(p, "InstanceInitiatedShutdownBehavior"),
        .key_name = vm_params_get(p, "KeyName"),
        .user_data = vm_params_get(p, "UserData"),
    };
    if ((!template_data && !req->image_id) || vm_params_bool(p, "DryRun", false, &req->dry_run, err) < 0 ||
        (!template_data && (!vm_params_require(p, "MinCount", err) || !vm_params_require(p, "MaxCount", err))) ||
        vm_params_int(p, "MinCount", 1, 1, INST_RUN_MAX_COUNT, &req->min_count, err) < 0 ||
        vm_params_int(p, "MaxCount", 1, 1, INST_RUN_MAX_COUNT, &req->max_count, err) < 0 ||
        vm_params_bool(p, "DisableApiTermination", false, &req->disable_api_termination, err) < 0 ||
        vm_params_bool(p, "DisableApiStop", false, &req->disable_api_stop, err) < 0 ||
        vm_tags_from_spec(p, "instance", &h->tags, &req->ntags, err) < 0 ||
        block_devices(p, &h->bds, &req->nblock_devices, err) < 0 ||
        network(p, &req->net, &h->gids, &h->gnames, err) < 0)
        return -1;
    for (size_t i = 0; i < req->ntags; i++)
        if (strcmp(h->tags[i].key, INST_DATASOURCE_TAG) == 0 && inst_datasource_check(h->tags[i].value, err) < 0)
            return -1;
    req->md = INST_MD_DEFAULT;
    if (ec2_md_parse(p, "MetadataOptions.", &req->md, err) < 0)
        return -1;
    if (req->shutdown_behavior && strcmp(req->shutdown_behavior, "stop") != 0 &&
        strcmp(req->shutdown_behavior, "terminate") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are "
                            "stop, terminate",
                            req->shutdown_behavior);
    req->tags = h->tags;
    req->block_devices = h->bds;
    req->net.group_ids = h->gids;
    req->net.group_names = h->gnames;
    return 0;
}

int
ec2_run_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_(ec2_run_holder_free) ec2_run_holder h = { 0 };
    inst_run_req req;
    if (ec2_run_req_parse(ctx, p, false, &h, &req, err) < 0)
        return -1;
    char rid[VM_ID_MAX];
    if (inst_run_start(ctx, &req, rid, err) < 0)
        return -1;
    return inst_render_run(ctx, resp, rid, err);
}
