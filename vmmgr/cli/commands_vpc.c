/* `vmmgr` commands of the VPC: VPCs, subnets, security groups, interfaces, internet gateways and
 * route tables, named and optioned as `aws ec2` names them. */
#include <stddef.h>

#include "commands.h"

#define END { NULL, 0, NULL, NULL }
#define DRY_RUN { "dry-run", CLI_OPT_BOOL, "DryRun", "check permissions and parameters, change nothing" }
#define FILTERS { "filters", CLI_OPT_SHORTHAND, "Filter", "Name=NAME,Values=V1,V2 …" }
#define TAGS(type) { "tag-specifications", CLI_OPT_SHORTHAND, "TagSpecification", "ResourceType=" type ",Tags=[{Key=K,Value=V}]" }
static const cli_opt create_vpc_opts[] = {
    { "cidr-block", CLI_OPT_STR, "CidrBlock", "IPv4 block, /16 to /28 (e.g. 10.0.0.0/16)" },
    { "instance-tenancy", CLI_OPT_STR, "InstanceTenancy", "default" },
    TAGS("vpc"), DRY_RUN, END,
};
static const cli_opt describe_vpcs_opts[] = { { "vpc-ids", CLI_OPT_LIST, "VpcId", "ids (vpc-…)" }, FILTERS, END };
static const cli_opt vpc_id_opts[] = { { "vpc-id", CLI_OPT_STR, "VpcId", "the VPC" }, DRY_RUN, END };
static const cli_opt describe_vpc_attr_opts[] = {
    { "vpc-id", CLI_OPT_STR, "VpcId", "the VPC" },
    { "attribute", CLI_OPT_STR, "Attribute", "enableDnsSupport or enableDnsHostnames" },
    END,
};
static const cli_opt modify_vpc_attr_opts[] = {
    { "vpc-id", CLI_OPT_STR, "VpcId", "the VPC" },
    { "enable-dns-support", CLI_OPT_BOOL, "EnableDnsSupport.Value", "private DNS names resolve in the VPC" },
    { "enable-dns-hostnames", CLI_OPT_BOOL, "EnableDnsHostnames.Value", "instances get DNS host names" },
    END,
};
static const cli_opt create_subnet_opts[] = {
    { "vpc-id", CLI_OPT_STR, "VpcId", "the VPC" },
    { "cidr-block", CLI_OPT_STR, "CidrBlock", "a block inside the VPC's, /16 to /28, overlapping no other subnet" },
    { "availability-zone", CLI_OPT_STR, "AvailabilityZone", "its zone (us-east-1b; one is chosen when none is given)" },
    { "availability-zone-id", CLI_OPT_STR, "AvailabilityZoneId", "its zone by id (use1-az2)" },
    TAGS("subnet"), DRY_RUN, END,
};
static const cli_opt describe_subnets_opts[] = { { "subnet-ids", CLI_OPT_LIST, "SubnetId", "ids (subnet-…)" }, FILTERS,
                                                 END };
static const cli_opt subnet_id_opts[] = { { "subnet-id", CLI_OPT_STR, "SubnetId", "the subnet" }, DRY_RUN, END };
static const cli_opt modify_subnet_opts[] = {
    { "subnet-id", CLI_OPT_STR, "SubnetId", "the subnet" },
    { "map-public-ip-on-launch", CLI_OPT_BOOL, "MapPublicIpOnLaunch.Value", "recorded (this host has no public IPs)" },
    END,
};
static const cli_opt create_sg_opts[] = {
    { "group-name", CLI_OPT_STR, "GroupName", "a name unique in the VPC" },
    { "description", CLI_OPT_STR, "GroupDescription", "free text" },
    { "vpc-id", CLI_OPT_STR, "VpcId", "the VPC (default: the default VPC)" },
    TAGS("security-group"), DRY_RUN, END,
};
static const cli_opt describe_sg_opts[] = {
    { "group-ids", CLI_OPT_LIST, "GroupId", "ids (sg-…)" },
    { "group-names", CLI_OPT_LIST, "GroupName", "names (default VPC)" },
    FILTERS, END,
};
static const cli_opt sg_id_opts[] = {
    { "group-id", CLI_OPT_STR, "GroupId", "the group" },
    { "group-name", CLI_OPT_STR, "GroupName", "the group, by name (default VPC)" },
    DRY_RUN, END,
};
#define SG_RULE_OPTS                                                                                                   \
    { "group-id", CLI_OPT_STR, "GroupId", "the group" },                                                              \
    { "group-name", CLI_OPT_STR, "GroupName", "the group, by name (default VPC)" },                                    \
    { "ip-permissions", CLI_OPT_SHORTHAND, "IpPermissions",                                                           \
      "IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=10.0.0.0/16}] or UserIdGroupPairs=[{GroupId=sg-…}]" },    \
    { "protocol", CLI_OPT_STR, "IpProtocol", "tcp, udp, icmp or all" },                                                \
    { "port", CLI_OPT_PORTS, NULL, "22, or a range 8000-8080 (icmp: type)" },                                         \
    { "cidr", CLI_OPT_STR, "CidrIp", "source (ingress) or destination (egress) block" },                             \
    { "source-group", CLI_OPT_STR, "SourceSecurityGroupName", "a group (id or name) as the peer" }
static const cli_opt sg_rule_opts[] = { SG_RULE_OPTS, DRY_RUN, END };
static const cli_opt sg_revoke_opts[] = {
    SG_RULE_OPTS,
    { "security-group-rule-ids", CLI_OPT_LIST, "SecurityGroupRuleId", "rule ids (sgr-…)" },
    DRY_RUN, END,
};
static const cli_opt describe_rules_opts[] = {
    { "security-group-rule-ids", CLI_OPT_LIST, "SecurityGroupRuleId", "ids (sgr-…)" },
    FILTERS, END,
};
static const cli_opt describe_eni_opts[] = {
    { "network-interface-ids", CLI_OPT_LIST, "NetworkInterfaceId", "ids (eni-…)" },
    FILTERS, END,
};

#define IGW_ID { "internet-gateway-id", CLI_OPT_STR, "InternetGatewayId", "the internet gateway (igw-…)" }
static const cli_opt create_igw_opts[] = { TAGS("internet-gateway"), DRY_RUN, END };
static const cli_opt igw_vpc_opts[] = { IGW_ID, { "vpc-id", CLI_OPT_STR, "VpcId", "the VPC" }, DRY_RUN, END };
static const cli_opt igw_id_opts[] = { IGW_ID, DRY_RUN, END };
static const cli_opt describe_igw_opts[] = {
    { "internet-gateway-ids", CLI_OPT_LIST, "InternetGatewayId", "ids (igw-…)" },
    FILTERS, END,
};
#define RTB_ID { "route-table-id", CLI_OPT_STR, "RouteTableId", "the route table (rtb-…)" }
static const cli_opt create_rtb_opts[] = {
    { "vpc-id", CLI_OPT_STR, "VpcId", "the VPC" },
    TAGS("route-table"), DRY_RUN, END,
};
static const cli_opt rtb_id_opts[] = { RTB_ID, DRY_RUN, END };
static const cli_opt describe_rtb_opts[] = {
    { "route-table-ids", CLI_OPT_LIST, "RouteTableId", "ids (rtb-…)" },
    FILTERS, END,
};
#define DEST { "destination-cidr-block", CLI_OPT_STR, "DestinationCidrBlock", "the destination (0.0.0.0/0)" }
static const cli_opt route_opts[] = {
    RTB_ID, DEST,
    { "gateway-id", CLI_OPT_STR, "GatewayId", "an internet gateway attached to the VPC (igw-…)" },
    { "nat-gateway-id", CLI_OPT_STR, "NatGatewayId", "or a NAT gateway of the VPC (nat-…)" },
    DRY_RUN, END,
};
static const cli_opt delete_route_opts[] = { RTB_ID, DEST, DRY_RUN, END };
static const cli_opt associate_rtb_opts[] = {
    RTB_ID, { "subnet-id", CLI_OPT_STR, "SubnetId", "a subnet of the table's VPC" }, DRY_RUN, END,
};
#define ASSOC_ID { "association-id", CLI_OPT_STR, "AssociationId", "the association (rtbassoc-…)" }
static const cli_opt disassociate_rtb_opts[] = { ASSOC_ID, DRY_RUN, END };
static const cli_opt replace_assoc_opts[] = { ASSOC_ID, RTB_ID, DRY_RUN, END };
static const cli_opt allocate_opts[] = {
    { "domain", CLI_OPT_STR, "Domain", "vpc" },
    { "address", CLI_OPT_STR, "Address", "this address of the pool (default: the lowest free one)" },
    TAGS("elastic-ip"), DRY_RUN, END,
};
#define ALLOC_ID { "allocation-id", CLI_OPT_STR, "AllocationId", "the address (eipalloc-…)" }
#define PUBLIC_IP { "public-ip", CLI_OPT_STR, "PublicIp", "the address itself" }
static const cli_opt associate_opts[] = {
    ALLOC_ID, PUBLIC_IP,
    { "instance-id", CLI_OPT_STR, "InstanceId", "the instance (its interface)" },
    { "network-interface-id", CLI_OPT_STR, "NetworkInterfaceId", "or the interface" },
    { "private-ip-address", CLI_OPT_STR, "PrivateIpAddress", "the interface's address" },
    { "allow-reassociation", CLI_OPT_BOOL, "AllowReassociation", "move it from where it is" },
    DRY_RUN, END,
};
static const cli_opt disassociate_opts[] = {
    { "association-id", CLI_OPT_STR, "AssociationId", "the association (eipassoc-…)" }, PUBLIC_IP, DRY_RUN, END,
};
static const cli_opt release_opts[] = { ALLOC_ID, PUBLIC_IP, DRY_RUN, END };
static const cli_opt create_nat_opts[] = {
    { "subnet-id", CLI_OPT_STR, "SubnetId", "a public subnet (its route table leads to an internet gateway)" },
    ALLOC_ID,
    { "connectivity-type", CLI_OPT_STR, "ConnectivityType", "public" },
    { "client-token", CLI_OPT_STR, "ClientToken", "idempotency token" },
    TAGS("natgateway"), DRY_RUN, END,
};
static const cli_opt nat_id_opts[] = { { "nat-gateway-id", CLI_OPT_STR, "NatGatewayId", "the NAT gateway" }, DRY_RUN, END };
static const cli_opt describe_nat_opts[] = {
    { "nat-gateway-ids", CLI_OPT_LIST, "NatGatewayId", "ids (nat-…)" },
    FILTERS, END,
};
static const cli_opt describe_addresses_opts[] = {
    { "allocation-ids", CLI_OPT_LIST, "AllocationId", "ids (eipalloc-…)" },
    { "public-ips", CLI_OPT_LIST, "PublicIp", "addresses" },
    FILTERS, END,
};

static const cli_cmd vpc_cmds[] = {
    { "create-vpc", "CreateVpc", create_vpc_opts, "Make a VPC (an address space for subnets)", false },
    { "describe-vpcs", "DescribeVpcs", describe_vpcs_opts, "Show VPCs", false },
    { "delete-vpc", "DeleteVpc", vpc_id_opts, "Delete a VPC without subnets or groups", true },
    { "describe-vpc-attribute", "DescribeVpcAttribute", describe_vpc_attr_opts, "Show a VPC's DNS attribute", false },
    { "modify-vpc-attribute", "ModifyVpcAttribute", modify_vpc_attr_opts, "Turn a VPC's DNS on or off", true },
    { "create-subnet", "CreateSubnet", create_subnet_opts, "Make a subnet (a bridge with DHCP and DNS)", false },
    { "describe-subnets", "DescribeSubnets", describe_subnets_opts, "Show subnets", false },
    { "delete-subnet", "DeleteSubnet", subnet_id_opts, "Delete a subnet no instance uses", true },
    { "modify-subnet-attribute", "ModifySubnetAttribute", modify_subnet_opts, "Change a subnet attribute", true },
    { "create-security-group", "CreateSecurityGroup", create_sg_opts, "Make a security group (egress open)", false },
    { "describe-security-groups", "DescribeSecurityGroups", describe_sg_opts, "Show security groups", false },
    { "delete-security-group", "DeleteSecurityGroup", sg_id_opts, "Delete a security group nothing uses", true },
    { "authorize-security-group-ingress", "AuthorizeSecurityGroupIngress", sg_rule_opts, "Allow traffic in", false },
    { "authorize-security-group-egress", "AuthorizeSecurityGroupEgress", sg_rule_opts, "Allow traffic out", false },
    { "revoke-security-group-ingress", "RevokeSecurityGroupIngress", sg_revoke_opts, "Remove an ingress rule", false },
    { "revoke-security-group-egress", "RevokeSecurityGroupEgress", sg_revoke_opts, "Remove an egress rule", false },
    { "describe-security-group-rules", "DescribeSecurityGroupRules", describe_rules_opts, "Show rules one by one",
      false },
    { "describe-network-interfaces", "DescribeNetworkInterfaces", describe_eni_opts, "Show network interfaces",
      false },
    { "create-internet-gateway", "CreateInternetGateway", create_igw_opts,
      "Make an internet gateway (a VPC's way out through the uplink)", false },
    { "attach-internet-gateway", "AttachInternetGateway", igw_vpc_opts, "Attach an internet gateway to a VPC", true },
    { "detach-internet-gateway", "DetachInternetGateway", igw_vpc_opts, "Detach an internet gateway", true },
    { "delete-internet-gateway", "DeleteInternetGateway", igw_id_opts, "Delete a detached internet gateway", true },
    { "describe-internet-gateways", "DescribeInternetGateways", describe_igw_opts, "Show internet gateways", false },
    { "create-route-table", "CreateRouteTable", create_rtb_opts, "Make a route table in a VPC", false },
    { "delete-route-table", "DeleteRouteTable", rtb_id_opts, "Delete a route table no subnet uses", true },
    { "describe-route-tables", "DescribeRouteTables", describe_rtb_opts, "Show route tables", false },
    { "create-route", "CreateRoute", route_opts, "Add a route (to an internet gateway)", false },
    { "replace-route", "ReplaceRoute", route_opts, "Change a route's target", true },
    { "delete-route", "DeleteRoute", delete_route_opts, "Remove a route", true },
    { "associate-route-table", "AssociateRouteTable", associate_rtb_opts, "Give a subnet a route table", false },
    { "disassociate-route-table", "DisassociateRouteTable", disassociate_rtb_opts,
      "Take a subnet back to its VPC's main route table", true },
    { "replace-route-table-association", "ReplaceRouteTableAssociation", replace_assoc_opts,
      "Give an association (a subnet's, or the VPC's main one) another table", false },
    { "allocate-address", "AllocateAddress", allocate_opts, "Take an Elastic IP from the host's pool", false },
    { "associate-address", "AssociateAddress", associate_opts,
      "Give an instance an Elastic IP (1:1 NAT on the uplink)", false },
    { "disassociate-address", "DisassociateAddress", disassociate_opts, "Take an Elastic IP off its instance", true },
    { "release-address", "ReleaseAddress", release_opts, "Give an Elastic IP back to the pool", true },
    { "describe-addresses", "DescribeAddresses", describe_addresses_opts, "Show Elastic IPs", false },
    { "create-nat-gateway", "CreateNatGateway", create_nat_opts,
      "Make a NAT gateway (private subnets routing to it go out as its Elastic IP)", false },
    { "delete-nat-gateway", "DeleteNatGateway", nat_id_opts, "Delete a NAT gateway", false },
    { "describe-nat-gateways", "DescribeNatGateways", describe_nat_opts, "Show NAT gateways", false },
};

const cli_cmd *
cli_vpc_cmds(size_t *ret_n)
{
    *ret_n = sizeof(vpc_cmds) / sizeof(vpc_cmds[0]);
    return vpc_cmds;
}
