#include "dispatch.h"

#include <stdio.h>
#include <string.h>

#include "../images/catalog.h"
#include "../net/net.h"
#include "../storage/snapshot.h"
#include "../storage/volume.h"
#include "account.h"
#include "compute/instance.h"
#include "compute/keypair.h"
#include "compute/types.h"
#include "services/ec2/ec2.h"
#include "core/audit.h"
#include "core/cleanup.h"
#include "core/tags.h"

#define P(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const vm_action actions[] = {
    { "RunInstances", ec2_run_instances,
      P("ImageId", "InstanceType", "MinCount", "MaxCount", "ClientToken", "TagSpecification", "DisableApiTermination",
        "DisableApiStop", "InstanceInitiatedShutdownBehavior", "KeyName", "UserData", "BlockDeviceMapping", "SubnetId",
        "SecurityGroupId", "SecurityGroup", "PrivateIpAddress", "NetworkInterface", "LaunchTemplate", "Placement",
        "MetadataOptions") },
    { "ModifyInstanceMetadataOptions", ec2_modify_instance_metadata_options,
      P("InstanceId", "HttpTokens", "HttpPutResponseHopLimit", "HttpEndpoint", "HttpProtocolIpv6",
        "InstanceMetadataTags") },
    { "CreateLaunchTemplate", ec2_create_launch_template,
      P("LaunchTemplateName", "VersionDescription", "LaunchTemplateData", "TagSpecification", "ClientToken") },
    { "CreateLaunchTemplateVersion", ec2_create_launch_template_version,
      P("LaunchTemplateId", "LaunchTemplateName", "SourceVersion", "VersionDescription", "LaunchTemplateData",
        "ClientToken", "ResolveAlias") },
    { "DescribeLaunchTemplates", ec2_describe_launch_templates,
      P("LaunchTemplateId", "LaunchTemplateName", "Filter", "MaxResults", "NextToken") },
    { "DescribeLaunchTemplateVersions", ec2_describe_launch_template_versions,
      P("LaunchTemplateId", "LaunchTemplateName", "LaunchTemplateVersion", "MinVersion", "MaxVersion", "Filter",
        "MaxResults", "NextToken", "ResolveAlias") },
    { "ModifyLaunchTemplate", ec2_modify_launch_template,
      P("LaunchTemplateId", "LaunchTemplateName", "SetDefaultVersion", "ClientToken") },
    { "DeleteLaunchTemplate", ec2_delete_launch_template, P("LaunchTemplateId", "LaunchTemplateName") },
    { "DeleteLaunchTemplateVersions", ec2_delete_launch_template_versions,
      P("LaunchTemplateId", "LaunchTemplateName", "LaunchTemplateVersion") },
    { "DescribeInstances", inst_describe, P("InstanceId", "Filter", "MaxResults", "NextToken") },
    { "TerminateInstances", inst_terminate, P("InstanceId") },
    { "StopInstances", inst_stop, P("InstanceId", "Force", "Hibernate") },
    { "StartInstances", inst_start, P("InstanceId", "AdditionalInfo") },
    { "RebootInstances", inst_reboot, P("InstanceId") },
    { "GetConsoleOutput", inst_console_output, P("InstanceId", "Latest") },
    { "DescribeImages", img_describe,
      P("ImageId", "Owner", "ExecutableBy", "Filter", "IncludeDeprecated", "MaxResults", "NextToken"),
      .paged = "imagesSet" },
    { "DescribeInstanceTypes", inst_types_describe, P("InstanceType", "Filter", "MaxResults", "NextToken"),
      .paged = "instanceTypeSet" },
    { "CreateTags", vm_tags_create, P("ResourceId", "Tag") },
    { "DeleteTags", vm_tags_delete, P("ResourceId", "Tag") },
    { "DescribeTags", vm_tags_describe, P("Filter", "MaxResults", "NextToken"), .paged = "tagSet" },
    { "DescribeInstanceAttribute", inst_describe_attribute, P("InstanceId", "Attribute") },
    { "ModifyInstanceAttribute", inst_modify_attribute,
      P("InstanceId", "Attribute", "Value", "DisableApiTermination", "DisableApiStop",
        "InstanceInitiatedShutdownBehavior", "InstanceType", "SourceDestCheck", "UserData", "EbsOptimized",
        "EnaSupport", "GroupId", "Kernel", "Ramdisk", "SriovNetSupport", "BlockDeviceMapping") },
    { "DescribeRegions", vm_account_regions, P("RegionName", "Filter", "AllRegions") },
    { "DescribeAvailabilityZones", vm_account_zones, P("ZoneName", "ZoneId", "Filter", "AllAvailabilityZones") },
    { "DescribeAccountAttributes", vm_account_attributes, P("AttributeName") },
    { "DescribeVpcClassicLink", vm_retired_feature, P("VpcId", "Filter", "DryRun") },
    { "DescribeVpcClassicLinkDnsSupport", vm_retired_feature, P("VpcIds", "MaxResults", "NextToken") },
    { "DescribeVpcAttribute", vpc_describe_attribute, P("VpcId", "Attribute") },
    { "ModifyVpcAttribute", vpc_modify_attribute,
      P("VpcId", "EnableDnsSupport", "EnableDnsHostnames", "EnableNetworkAddressUsageMetrics") },
    { "CreateVpc", vpc_create,
      P("CidrBlock", "InstanceTenancy", "AmazonProvidedIpv6CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength",
        "TagSpecification") },
    { "DescribeVpcs", vpc_describe, P("VpcId", "Filter", "MaxResults", "NextToken"), .paged = "vpcSet" },
    { "DeleteVpc", vpc_delete, P("VpcId") },
    { "CreateSubnet", subnet_create,
      P("VpcId", "CidrBlock", "AvailabilityZone", "AvailabilityZoneId", "Ipv6CidrBlock", "Ipv6Native",
        "TagSpecification") },
    { "DescribeSubnets", subnet_describe, P("SubnetId", "Filter", "MaxResults", "NextToken"), .paged = "subnetSet" },
    { "DeleteSubnet", subnet_delete, P("SubnetId") },
    { "ModifySubnetAttribute", subnet_modify_attribute,
      P("SubnetId", "MapPublicIpOnLaunch", "AssignIpv6AddressOnCreation", "MapCustomerOwnedIpOnLaunch",
        "EnableDns64", "EnableLniAtDeviceIndex", "DisableLniAtDeviceIndex") },
    { "CreateInternetGateway", igw_create, P("TagSpecification") },
    { "AttachInternetGateway", igw_attach, P("InternetGatewayId", "VpcId") },
    { "DetachInternetGateway", igw_detach, P("InternetGatewayId", "VpcId") },
    { "DeleteInternetGateway", igw_delete, P("InternetGatewayId") },
    { "DescribeInternetGateways", igw_describe, P("InternetGatewayId", "Filter", "MaxResults", "NextToken"),
      .paged = "internetGatewaySet" },
    { "CreateRouteTable", rtb_create, P("VpcId", "TagSpecification") },
    { "DeleteRouteTable", rtb_delete, P("RouteTableId") },
    { "DescribeRouteTables", rtb_describe, P("RouteTableId", "Filter", "MaxResults", "NextToken"),
      .paged = "routeTableSet" },
    { "AssociateRouteTable", rtb_associate, P("RouteTableId", "SubnetId", "GatewayId") },
    { "DisassociateRouteTable", rtb_disassociate, P("AssociationId") },
    { "ReplaceRouteTableAssociation", rtb_replace_association, P("AssociationId", "RouteTableId") },
#define ROUTE_PARAMS                                                                                                  \
    "RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId", "GatewayId",     \
        "InstanceId", "NatGatewayId", "NetworkInterfaceId", "VpcPeeringConnectionId", "TransitGatewayId",           \
        "EgressOnlyInternetGatewayId", "LocalGatewayId", "CarrierGatewayId", "VpcEndpointId", "CoreNetworkArn"
    { "CreateRoute", route_create, P(ROUTE_PARAMS) },
    { "ReplaceRoute", route_replace, P(ROUTE_PARAMS, "LocalTarget") },
    { "DeleteRoute", route_delete, P("RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock",
                                     "DestinationPrefixListId") },
    { "AllocateAddress", eip_allocate,
      P("Domain", "Address", "PublicIpv4Pool", "NetworkBorderGroup", "CustomerOwnedIpv4Pool", "TagSpecification") },
    { "AssociateAddress", eip_associate,
      P("AllocationId", "InstanceId", "PublicIp", "AllowReassociation", "NetworkInterfaceId", "PrivateIpAddress") },
    { "DisassociateAddress", eip_disassociate, P("AssociationId", "PublicIp") },
    { "ReleaseAddress", eip_release, P("AllocationId", "PublicIp", "NetworkBorderGroup") },
    { "DescribeAddresses", eip_describe, P("PublicIp", "AllocationId", "Filter") },
    { "CreateNatGateway", natgw_create,
      P("SubnetId", "AllocationId", "ConnectivityType", "PrivateIpAddress", "TagSpecification", "ClientToken") },
    { "DeleteNatGateway", natgw_delete, P("NatGatewayId") },
    { "DescribeNatGateways", natgw_describe, P("NatGatewayId", "Filter", "MaxResults", "NextToken"),
      .paged = "natGatewaySet" },
    { "CreateSecurityGroup", sg_create, P("GroupName", "GroupDescription", "VpcId", "TagSpecification") },
    { "DescribeSecurityGroups", sg_describe, P("GroupId", "GroupName", "Filter", "MaxResults", "NextToken"),
      .paged = "securityGroupInfo" },
    { "DeleteSecurityGroup", sg_delete, P("GroupId", "GroupName") },
    { "AuthorizeSecurityGroupIngress", sg_authorize_ingress,
      P("GroupId", "GroupName", "IpPermissions", "IpProtocol", "FromPort", "ToPort", "CidrIp",
        "SourceSecurityGroupName", "SourceSecurityGroupOwnerId", "TagSpecification") },
    { "AuthorizeSecurityGroupEgress", sg_authorize_egress,
      P("GroupId", "IpPermissions", "IpProtocol", "FromPort", "ToPort", "CidrIp", "SourceSecurityGroupName",
        "SourceSecurityGroupOwnerId", "TagSpecification") },
    { "RevokeSecurityGroupIngress", sg_revoke_ingress,
      P("GroupId", "GroupName", "IpPermissions", "IpProtocol", "FromPort", "ToPort", "CidrIp",
        "SourceSecurityGroupName", "SourceSecurityGroupOwnerId", "SecurityGroupRuleId") },
    { "RevokeSecurityGroupEgress", sg_revoke_egress,
      P("GroupId", "IpPermissions", "IpProtocol", "FromPort", "ToPort", "CidrIp", "SourceSecurityGroupName",
        "SourceSecurityGroupOwnerId", "SecurityGroupRuleId") },
    { "DescribeSecurityGroupRules", sg_describe_rules, P("SecurityGroupRuleId", "Filter", "MaxResults", "NextToken"),
      .paged = "securityGroupRuleSet" },
    { "DescribeNetworkInterfaces", eni_describe, P("NetworkInterfaceId", "Filter", "MaxResults", "NextToken"),
      .paged = "networkInterfaceSet" },
    { "CreateKeyPair", kp_create, P("KeyName", "KeyType", "KeyFormat", "TagSpecification") },
    { "ImportKeyPair", kp_import, P("KeyName", "PublicKeyMaterial", "TagSpecification") },
    { "DescribeKeyPairs", kp_describe, P("KeyName", "KeyPairId", "Filter", "IncludePublicKey") },
    { "DeleteKeyPair", kp_delete, P("KeyName", "KeyPairId") },
    { "ImportImage", img_import,
      P("DiskContainer", "Name", "Description", "Architecture", "BootMode", "KernelFile", "RamdiskFile", "Progress"),
      .local_only = true },
    { "DeregisterImage", img_deregister, P("ImageId") },
    { "CreateVolume", vol_create,
      P("Size", "VolumeType", "Iops", "Throughput", "SnapshotId", "AvailabilityZone", "TagSpecification", "ClientToken",
        "Encrypted", "MultiAttachEnabled") },
    { "DescribeVolumes", vol_describe, P("VolumeId", "Filter", "MaxResults", "NextToken") },
    { "DeleteVolume", vol_delete, P("VolumeId") },
    { "AttachVolume", vol_attach, P("VolumeId", "InstanceId", "Device") },
    { "DetachVolume", vol_detach, P("VolumeId", "InstanceId", "Device", "Force") },
    { "ModifyVolume", vol_modify, P("VolumeId", "Size", "VolumeType", "Iops", "Throughput", "MultiAttachEnabled") },
    { "DescribeVolumesModifications", vol_describe_modifications, P("VolumeId", "Filter", "MaxResults", "NextToken"),
      .paged = "volumeModificationSet" },
    { "CreateSnapshot", snap_create, P("VolumeId", "Description", "TagSpecification", "Progress") },
    { "DescribeSnapshots", snap_describe, P("SnapshotId", "Owner", "RestorableBy", "Filter", "MaxResults", "NextToken"),
      .paged = "snapshotSet" },
    { "DeleteSnapshot", snap_delete, P("SnapshotId") },
    { "CopySnapshot", snap_copy, P("SourceSnapshotId", "SourceRegion", "Description", "TagSpecification", "Progress") },
    { "CreateImage", img_create_from_instance, P("InstanceId", "Name", "Description", "NoReboot") },
};

const vm_action *
vm_action_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
    return NULL;
}

static bool
accepted(const vm_action *a, const char *key)
{
    static const char *const common[] = { "Action", "Version", "DryRun", NULL };
    size_t len = strcspn(key, ".");
    for (const char *const *set[] = { common, a->params }, *const **s = set; s < set + 2; s++)
        for (const char *const *n = *s; *n; n++)
            if (strlen(*n) == len && strncmp(*n, key, len) == 0)
                return true;
    return false;
}

/* MaxResults and NextToken, with the action's limits from the model (core/page.h). */
static int
page_begin(vm_ctx *ctx, const vm_action *a, const vm_params *p, vm_error *err)
{
    ctx->page = (vm_page){ 0 };
    const vm_page_limits *lim = vm_page_limits_of(a->name);
    if (!lim)
        return 0;
    long max, offset;
    if (vm_params_int(p, "MaxResults", 0, lim->min, lim->clamp ? 1L << 30 : lim->max, &max, err) < 0 ||
        vm_params_int(p, "NextToken", 0, 0, 1L << 30, &offset, err) < 0)
        return -1;
    if (lim->ids_param && vm_params_get(p, "MaxResults"))
        for (size_t i = 0; i < p->n; i++)
            if (strncmp(p->v[i].key, lim->ids_param, strlen(lim->ids_param)) == 0 &&
                p->v[i].key[strlen(lim->ids_param)] == '.')
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                                    "The parameter %s cannot be used with the parameter MaxResults", lim->ids_param);
    ctx->page.max = lim->clamp && max > lim->max ? lim->max : max;
    ctx->page.offset = offset;
    return 0;
}

/* The page of a whole result list (a handler that filled it all), then nextToken. */
static void
page_end(vm_ctx *ctx, const vm_action *a, vm_node *resp)
{
    vm_page *pg = &ctx->page;
    vm_node *list = a->paged && !pg->used ? vm_node_child(resp, a->paged) : NULL;
    if (list && (pg->max || pg->offset)) {
        vm_node *keep = NULL, *last = NULL, *rest = list->first;
        list->first = list->last = NULL;
        while (rest) {
            vm_node *n = rest;
            rest = n->next;
            n->next = NULL;
            if (vm_page_take(pg) != 1) {
                vm_node_free(n);
                continue;
            }
            if (last)
                last->next = n;
            else
                keep = n;
            last = n;
        }
        list->first = keep;
        list->last = last;
    }
    if (pg->more) {
        char tok[32];
        snprintf(tok, sizeof(tok), "%ld", pg->offset + pg->shown);
        vm_node_str(resp, "nextToken", NULL, tok);
    }
}

static int
run(vm_ctx *ctx, const vm_action *a, const vm_params *p, vm_node **ret_resp, vm_error *err)
{
    for (size_t i = 0; i < p->n; i++)
        if (!accepted(a, p->v[i].key))
            return vm_error_set(err, VM_ERR_UNKNOWN_PARAMETER, "The parameter %s is not recognized", p->v[i].key);
    vm_node *resp = vm_node_new_root(a->name);
    if (!resp)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (page_begin(ctx, a, p, err) < 0 || a->fn(ctx, p, resp, err) < 0) {
        vm_node_free(resp);
        return -1;
    }
    page_end(ctx, a, resp);
    *ret_resp = resp;
    return 0;
}

int
vm_dispatch(vm_ctx *ctx, const char *principal, const char *action, const vm_params *p, vm_node **ret_resp,
            vm_error *err)
{
    const vm_action *a = vm_action_find(action);
    if (!a || (a->local_only && strcmp(principal, "cli") != 0))
        return vm_error_set(err, VM_ERR_INVALID_ACTION, "The action %s is not valid for this web service",
                            action ? action : "(none)");
    /* Progress (a bar on the terminal) is the CLI's own: over HTTP it would print in the daemon */
    if (strcmp(principal, "cli") != 0 && vm_params_get(p, "Progress"))
        return vm_error_set(err, VM_ERR_UNKNOWN_PARAMETER, "The parameter Progress is not recognized");
    /* DryRun=true: the request is checked and nothing changes.  Handlers answer DryRunOperation
     * where they know the request is good; whatever they do after that point is refused by the
     * guard (vm_ctx_dry_run), and a request that got that far or through is DryRunOperation */
    bool dry = false;
    vm_error mine = { 0 };
    if (vm_params_bool(p, "DryRun", false, &dry, &mine) < 0) {
        vm_audit_record(ctx, principal, a->name, p, NULL, &mine);
        if (err && !vm_error_is_set(err))
            *err = mine;
        return -1;
    }
    vm_ctx_dry_run(ctx, dry);
    int rc = run(ctx, a, p, ret_resp, &mine);
    if (dry && (rc == 0 || ctx->dry_run_hit) && mine.code != VM_ERR_DRY_RUN) {
        if (rc == 0)
            vm_node_free(*ret_resp);
        *ret_resp = NULL;
        mine = (vm_error){ 0 };
        rc = vm_error_dry_run(&mine);
    }
    vm_ctx_dry_run(ctx, false);
    vm_audit_record(ctx, principal, a->name, p, rc == 0 ? *ret_resp : NULL, &mine);
    if (rc < 0 && err && !vm_error_is_set(err))
        *err = mine;
    return rc;
}
