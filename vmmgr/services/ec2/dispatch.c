#include "dispatch.h"

#include <stdio.h>
#include <string.h>

#include "../../../images/catalog.h"
#include "../../../net/net.h"
#include "../../../storage/snapshot.h"
#include "../../../storage/volume.h"
#include "account.h"
#include "../../compute/instance.h"
#include "../../compute/keypair.h"
#include "../../compute/types.h"
#include "ec2.h"
#include "../../core/audit.h"
#include "../../core/cleanup.h"
#include "../../core/tags.h"

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
    { "DescribeInstances", ec2_describe_instances, P("InstanceId", "Filter", "MaxResults", "NextToken") },
    { "TerminateInstances", ec2_terminate_instances, P("InstanceId") },
    { "StopInstances", ec2_stop_instances, P("InstanceId", "Force", "Hibernate") },
    { "StartInstances", ec2_start_instances, P("InstanceId", "AdditionalInfo") },
    { "RebootInstances", ec2_reboot_instances, P("InstanceId") },
    { "GetConsoleOutput", ec2_get_console_output, P("InstanceId", "Latest") },
    { "DescribeImages", ec2_describe_images,
      P("ImageId", "Owner", "ExecutableBy", "Filter", "IncludeDeprecated", "MaxResults", "NextToken"),
      .paged = "imagesSet" },
    { "DescribeInstanceTypes", ec2_describe_instance_types, P("InstanceType", "Filter", "MaxResults", "NextToken"),
      .paged = "instanceTypeSet" },
    { "CreateTags", vm_tags_create, P("ResourceId", "Tag") },
    { "DeleteTags", vm_tags_delete, P("ResourceId", "Tag") },
    { "DescribeTags", vm_tags_describe, P("Filter", "MaxResults", "NextToken"), .paged = "tagSet" },
    { "DescribeInstanceAttribute", ec2_describe_instance_attribute, P("InstanceId", "Attribute") },
    { "ModifyInstanceAttribute", ec2_modify_instance_attribute,
      P("InstanceId", "Attribute", "Value", "DisableApiTermination", "DisableApiStop",
        "InstanceInitiatedShutdownBehavior", "InstanceType", "SourceDestCheck", "UserData", "EbsOptimized",
        "EnaSupport", "GroupId", "Kernel", "Ramdisk", "SriovNetSupport", "BlockDeviceMapping") },
    { "DescribeRegions", vm_account_regions, P("RegionName", "Filter", "AllRegions") },
    { "DescribeAvailabilityZones", vm_account_zones, P("ZoneName", "ZoneId", "Filter", "AllAvailabilityZones") },
    { "DescribeAccountAttributes", vm_account_attributes, P("AttributeName") },
    { "DescribeVpcClassicLink", vm_retired_feature, P("VpcId", "Filter", "DryRun") },
    { "DescribeVpcClassicLinkDnsSupport", vm_retired_feature, P("VpcIds", "MaxResults", "NextToken") },
    { "DescribeVpcAttribute", ec2_describe_vpc_attribute, P("VpcId", "Attribute") },
    { "ModifyVpcAttribute", ec2_modify_vpc_attribute,
      P("VpcId", "EnableDnsSupport", "EnableDnsHostnames", "EnableNetworkAddressUsageMetrics") },
    { "CreateVpc", ec2_create_vpc,
      P("CidrBlock", "InstanceTenancy", "AmazonProvidedIpv6CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength",
        "TagSpecification") },
    { "DescribeVpcs", ec2_describe_vpcs, P("VpcId", "Filter", "MaxResults", "NextToken"), .paged = "vpcSet" },
    { "DeleteVpc", ec2_delete_vpc, P("VpcId") },
    { "CreateSubnet", ec2_create_subnet,
      P("VpcId", "CidrBlock", "AvailabilityZone", "AvailabilityZoneId", "Ipv6CidrBlock", "Ipv6Native",
        "TagSpecification") },
    { "DescribeSubnets", ec2_describe_subnets, P("SubnetId", "Filter", "MaxResults", "NextToken"), .paged = "subnetSet" },
    { "DeleteSubnet", ec2_delete_subnet, P("SubnetId") },
    { "ModifySubnetAttribute", ec2_modify_subnet_attribute,
      P("SubnetId", "MapPublicIpOnLaunch", "AssignIpv6AddressOnCreation", "MapCustomerOwnedIpOnLaunch",
        "EnableDns64", "EnableLniAtDeviceIndex", "DisableLniAtDeviceIndex") },
    { "CreateInternetGateway", ec2_create_internet_gateway, P("TagSpecification") },
    { "AttachInternetGateway", ec2_attach_internet_gateway, P("InternetGatewayId", "VpcId") },
    { "DetachInternetGateway", ec2_detach_internet_gateway, P("InternetGatewayId", "VpcId") },
    { "DeleteInternetGateway", ec2_delete_internet_gateway, P("InternetGatewayId") },
    { "DescribeInternetGateways", ec2_describe_internet_gateways, P("InternetGatewayId", "Filter", "MaxResults", "NextToken"),
      .paged = "internetGatewaySet" },
    { "CreateRouteTable", ec2_create_route_table, P("VpcId", "TagSpecification") },
    { "DeleteRouteTable", ec2_delete_route_table, P("RouteTableId") },
    { "DescribeRouteTables", ec2_describe_route_tables, P("RouteTableId", "Filter", "MaxResults", "NextToken"),
      .paged = "routeTableSet" },
    { "AssociateRouteTable", ec2_associate_route_table, P("RouteTableId", "SubnetId", "GatewayId") },
    { "DisassociateRouteTable", ec2_disassociate_route_table, P("AssociationId") },
    { "ReplaceRouteTableAssociation", ec2_replace_route_table_association, P("AssociationId", "RouteTableId") },
#define ROUTE_PARAMS                                                                                                  \
    "RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId", "GatewayId",     \
        "InstanceId", "NatGatewayId", "NetworkInterfaceId", "VpcPeeringConnectionId", "TransitGatewayId",           \
        "EgressOnlyInternetGatewayId", "LocalGatewayId", "CarrierGatewayId", "VpcEndpointId", "CoreNetworkArn"
    { "CreateRoute", ec2_create_route, P(ROUTE_PARAMS) },
    { "ReplaceRoute", ec2_replace_route, P(ROUTE_PARAMS, "LocalTarget") },
    { "DeleteRoute", ec2_delete_route, P("RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock",
                                     "DestinationPrefixListId") },
    { "AllocateAddress", ec2_allocate_address,
      P("Domain", "Address", "PublicIpv4Pool", "NetworkBorderGroup", "CustomerOwnedIpv4Pool", "TagSpecification") },
    { "AssociateAddress", ec2_associate_address,
      P("AllocationId", "InstanceId", "PublicIp", "AllowReassociation", "NetworkInterfaceId", "PrivateIpAddress") },
    { "DisassociateAddress", ec2_disassociate_address, P("AssociationId", "PublicIp") },
    { "ReleaseAddress", ec2_release_address, P("AllocationId", "PublicIp", "NetworkBorderGroup") },
    { "DescribeAddresses", ec2_describe_addresses, P("PublicIp", "AllocationId", "Filter") },
    { "CreateNatGateway", ec2_create_nat_gateway,
      P("SubnetId", "AllocationId", "ConnectivityType", "PrivateIpAddress", "TagSpecification", "ClientToken") },
    { "DeleteNatGateway", ec2_delete_nat_gateway, P("NatGatewayId") },
    { "DescribeNatGateways", ec2_describe_nat_gateways, P("NatGatewayId", "Filter", "MaxResults", "NextToken"),
      .paged = "natGatewaySet" },
    { "CreateSecurityGroup", ec2_create_security_group, P("GroupName", "GroupDescription", "VpcId", "TagSpecification") },
    { "DescribeSecurityGroups", ec2_describe_security_groups, P("GroupId", "GroupName", "Filter", "MaxResults", "NextToken"),
      .paged = "securityGroupInfo" },
    { "DeleteSecurityGroup", ec2_delete_security_group, P("GroupId", "GroupName") },
    { "AuthorizeSecurityGroupIngress", ec2_authorize_security_group_ingress,
      P("GroupId", "GroupName", "IpPermissions", "IpProtocol", "FromPort", "ToPort", "CidrIp",
        "SourceSecurityGroupName", "SourceSecurityGroupOwnerId", "TagSpecification") },
    { "AuthorizeSecurityGroupEgress", ec2_authorize_security_group_egress,
      P("GroupId", "IpPermissions", "IpProtocol", "FromPort", "ToPort", "CidrIp", "SourceSecurityGroupName",
        "SourceSecurityGroupOwnerId", "TagSpecification") },
    { "RevokeSecurityGroupIngress", ec2_revoke_security_group_ingress,
      P("GroupId", "GroupName", "IpPermissions", "IpProtocol", "FromPort", "ToPort", "CidrIp",
        "SourceSecurityGroupName", "SourceSecurityGroupOwnerId", "SecurityGroupRuleId") },
    { "RevokeSecurityGroupEgress", ec2_revoke_security_group_egress,
      P("GroupId", "IpPermissions", "IpProtocol", "FromPort", "ToPort", "CidrIp", "SourceSecurityGroupName",
        "SourceSecurityGroupOwnerId", "SecurityGroupRuleId") },
    { "DescribeSecurityGroupRules", ec2_describe_security_group_rules, P("SecurityGroupRuleId", "Filter", "MaxResults", "NextToken"),
      .paged = "securityGroupRuleSet" },
    { "DescribeNetworkInterfaces", ec2_describe_network_interfaces, P("NetworkInterfaceId", "Filter", "MaxResults", "NextToken"),
      .paged = "networkInterfaceSet" },
    { "CreateKeyPair", ec2_create_key_pair, P("KeyName", "KeyType", "KeyFormat", "TagSpecification") },
    { "ImportKeyPair", ec2_import_key_pair, P("KeyName", "PublicKeyMaterial", "TagSpecification") },
    { "DescribeKeyPairs", ec2_describe_key_pairs, P("KeyName", "KeyPairId", "Filter", "IncludePublicKey") },
    { "DeleteKeyPair", ec2_delete_key_pair, P("KeyName", "KeyPairId") },
    { "ImportImage", ec2_import_image,
      P("DiskContainer", "Name", "Description", "Architecture", "BootMode", "KernelFile", "RamdiskFile"),
      .local_only = true },
    { "DeregisterImage", ec2_deregister_image, P("ImageId") },
    { "CreateVolume", ec2_create_volume,
      P("Size", "VolumeType", "Iops", "Throughput", "SnapshotId", "AvailabilityZone", "TagSpecification", "ClientToken",
        "Encrypted", "MultiAttachEnabled") },
    { "DescribeVolumes", ec2_describe_volumes, P("VolumeId", "Filter", "MaxResults", "NextToken") },
    { "DeleteVolume", ec2_delete_volume, P("VolumeId") },
    { "AttachVolume", ec2_attach_volume, P("VolumeId", "InstanceId", "Device") },
    { "DetachVolume", ec2_detach_volume, P("VolumeId", "InstanceId", "Device", "Force") },
    { "ModifyVolume", ec2_modify_volume, P("VolumeId", "Size", "VolumeType", "Iops", "Throughput", "MultiAttachEnabled") },
    { "DescribeVolumesModifications", ec2_describe_volumes_modifications, P("VolumeId", "Filter", "MaxResults", "NextToken"),
      .paged = "volumeModificationSet" },
    { "CreateSnapshot", ec2_create_snapshot, P("VolumeId", "Description", "TagSpecification") },
    { "DescribeSnapshots", ec2_describe_snapshots, P("SnapshotId", "Owner", "RestorableBy", "Filter", "MaxResults", "NextToken"),
      .paged = "snapshotSet" },
    { "DeleteSnapshot", ec2_delete_snapshot, P("SnapshotId") },
    { "CopySnapshot", ec2_copy_snapshot, P("SourceSnapshotId", "SourceRegion", "Description", "TagSpecification") },
    { "CreateImage", ec2_create_image, P("InstanceId", "Name", "Description", "NoReboot") },
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
