/* Subnets: CreateSubnet, DescribeSubnets, DeleteSubnet, ModifySubnetAttribute.  Each subnet is a
 * libvirt network (bridge and dnsmasq) started when the subnet is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"
#include "net_priv.h"

#define SUBNET_COLUMNS "id, vpc_id, cidr, default_for_az, map_public_ip, az"

static void
subnet_from_row(sqlite3_stmt *st, net_subnet *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", vm_db_text(st, 0));
    snprintf(s->vpc_id, sizeof(s->vpc_id), "%s", vm_db_text(st, 1));
    net_cidr_parse(vm_db_text(st, 2), true, &s->cidr);
    s->default_for_az = sqlite3_column_int(st, 3);
    s->map_public_ip = sqlite3_column_int(st, 4);
    snprintf(s->az, sizeof(s->az), "%s", vm_db_text(st, 5));
}

int
subnet_get(vm_ctx *ctx, const char *id, net_subnet *ret, vm_error *err)
{
    if (!vm_id_valid(id, "subnet"))
        return vm_error_set(err, VM_ERR_SUBNET_MALFORMED, "Invalid id: \"%s\" (expecting \"subnet-...\")",
                            id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " SUBNET_COLUMNS " FROM subnets WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_SUBNET_NOT_FOUND, "The subnet ID '%s' does not exist", id);
    subnet_from_row(st, ret);
    return 0;
}

int
net_zone_param(vm_ctx *ctx, const char *name, const char *id, vm_error *err)
{
    int byname = name ? vm_zone_find(ctx, name) : -1, byid = id ? vm_zone_find_id(ctx, id) : -1;
    if (name && byname < 0) {
        char all[VM_MAX_ZONES * 42] = "";
        for (size_t i = 0; i < ctx->nzones; i++)
            snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", i ? ", " : "", ctx->zones[i]);
        vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                     "Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in "
                     "the following availability zones: %s.",
                     name, all);
        return -2;
    }
    if (id && byid < 0) {
        vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter availabilityZoneId is invalid.", id);
        return -2;
    }
    if (name && id && byname != byid) {
        vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                     "The availability zone %s and the availability zone id %s are not the same zone", name, id);
        return -2;
    }
    return name ? byname : byid;
}

int
subnet_insert(vm_ctx *ctx, const char *id, const char *vpc_id, const net_cidr *c, const char *az, bool default_for_az,
              vm_error *err)
{
    char cidr[NET_CIDR_MAX];
    net_cidr_format(c, cidr);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO subnets (id, vpc_id, cidr, default_for_az, map_public_ip, created_at, az) "
                      "VALUES (?, ?, ?, ?, 0, strftime('%s','now'), ?)",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, vpc_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, cidr, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, default_for_az);
    sqlite3_bind_text(st, 5, az, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording subnet", err);
    return 0;
}

static int
render_subnet(vm_ctx *ctx, vm_node *it, const net_subnet *s, vm_error *err)
{
    char cidr[NET_CIDR_MAX], arn[128];
    net_cidr_format(&s->cidr, cidr);
    long used = net_count(ctx, "SELECT count(*) FROM network_interfaces WHERE subnet_id = ?", s->id, err);
    if (used < 0)
        return -1;
    vm_node_str(it, "subnetId", NULL, s->id);
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:subnet/%s", ctx->region, ctx->account_id, s->id);
    vm_node_str(it, "subnetArn", NULL, arn);
    vm_node_str(it, "state", NULL, "available");
    vm_node_str(it, "vpcId", NULL, s->vpc_id);
    vm_node_str(it, "ownerId", NULL, ctx->account_id);
    vm_node_str(it, "cidrBlock", NULL, cidr);
    vm_node_int(it, "availableIpAddressCount", NULL, (long long)net_subnet_usable(&s->cidr) - used);
    vm_node_str(it, "availabilityZone", NULL, s->az);
    vm_node_bool(it, "defaultForAz", NULL, s->default_for_az);
    vm_node_bool(it, "mapPublicIpOnLaunch", NULL, s->map_public_ip);
    vm_node_bool(it, "assignIpv6AddressOnCreation", NULL, false);
    vm_node_list(it, "ipv6CidrBlockAssociationSet", NULL);
    char zone_id[48];
    vm_zone_id_of(ctx, s->az, zone_id);
    vm_node_str(it, "availabilityZoneId", NULL, zone_id);
    vm_node_bool(it, "mapCustomerOwnedIpOnLaunch", NULL, false);
    vm_node_bool(it, "enableDns64", NULL, false);
    vm_node_bool(it, "ipv6Native", NULL, false);
    vm_node *dns = vm_node_struct(it, "privateDnsNameOptionsOnLaunch", NULL);
    vm_node_str(dns, "hostnameType", NULL, "ip-name");
    vm_node_bool(dns, "enableResourceNameDnsARecord", NULL, false);
    vm_node_bool(dns, "enableResourceNameDnsAAAARecord", NULL, false);
    return vm_tags_render(ctx, it, s->id, err);
}

int
subnet_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *vpc_id = vm_params_require(p, "VpcId", err);
    const char *cidr = vpc_id ? vm_params_require(p, "CidrBlock", err) : NULL;
    const char *az = vm_params_get(p, "AvailabilityZone");
    net_vpc vpc;
    net_cidr c;
    bool dry;
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (!cidr || vpc_get(ctx, vpc_id, &vpc, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (!net_cidr_parse(cidr, true, &c))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr);
    if (c.prefix < 16 || c.prefix > 28)
        return vm_error_set(err, VM_ERR_SUBNET_RANGE, "The CIDR '%s' is invalid: a subnet is /16 to /28", cidr);
    if (!net_cidr_contains(&vpc.cidr, &c)) {
        char v[NET_CIDR_MAX];
        net_cidr_format(&vpc.cidr, v);
        return vm_error_set(err, VM_ERR_SUBNET_RANGE, "The CIDR '%s' is invalid: it is not inside %s (%s)", cidr,
                            vpc.id, v);
    }
    int zone = net_zone_param(ctx, az, vm_params_get(p, "AvailabilityZoneId"), err);
    if (zone == -2)
        return -1;
    if (vm_params_get(p, "Ipv6CidrBlock") || vm_params_get(p, "Ipv6Native"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION, "IPv6 subnets are not offered by this host");
    if (vm_tags_from_spec(p, "subnet", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    if (dry)
        return vm_error_dry_run(err);

    char id[VM_ID_MAX];
    vm_id_new("subnet", id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *sib = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " SUBNET_COLUMNS " FROM subnets WHERE vpc_id = ?", &sib, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    sqlite3_bind_text(sib, 1, vpc.id, -1, SQLITE_STATIC);
    while (sqlite3_step(sib) == SQLITE_ROW) {
        net_subnet s;
        subnet_from_row(sib, &s);
        if (net_cidr_overlap(&s.cidr, &c)) {
            vm_db_rollback(ctx->db);
            return vm_error_set(err, VM_ERR_SUBNET_CONFLICT, "The CIDR '%s' conflicts with another subnet (%s)", cidr,
                                s.id);
        }
    }
    if (zone < 0) { /* none given: EC2 chooses; here the zone with the fewest of the VPC's subnets */
        size_t best = 0, counts[VM_MAX_ZONES] = { 0 };
        sqlite3_reset(sib);
        while (sqlite3_step(sib) == SQLITE_ROW) {
            net_subnet s;
            subnet_from_row(sib, &s);
            int z = vm_zone_find(ctx, s.az);
            if (z >= 0)
                counts[z]++;
        }
        for (size_t z = 1; z < ctx->nzones; z++)
            if (counts[z] < counts[best])
                best = z;
        zone = (int)best;
    }
    if (subnet_insert(ctx, id, vpc.id, &c, ctx->zones[zone], false, err) < 0 || vm_tags_put(ctx, id, owned, ntags, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    if (net_network_ensure(ctx, id, err) < 0) {
        vm_error ignore = { 0 };
        _cleanup_stmt_ sqlite3_stmt *d = NULL;
        if (vm_db_prepare(ctx->db, "DELETE FROM subnets WHERE id = ?", &d, &ignore) == 0) {
            sqlite3_bind_text(d, 1, id, -1, SQLITE_STATIC);
            sqlite3_step(d);
        }
        vm_tags_drop(ctx, id, &ignore);
        return -1;
    }
    net_subnet s;
    if (subnet_get(ctx, id, &s, err) < 0)
        return -1;
    return render_subnet(ctx, vm_node_struct(resp, "subnet", NULL), &s, err);
}

static const char *
subnet_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    const net_subnet *s = obj;
    if (strcmp(name, "subnet-id") == 0)
        return s->id;
    if (strcmp(name, "vpc-id") == 0)
        return s->vpc_id;
    if (strcmp(name, "cidr-block") == 0 || strcmp(name, "cidr") == 0 || strcmp(name, "cidrBlock") == 0) {
        net_cidr_format(&s->cidr, buf);
        return buf;
    }
    if (strcmp(name, "availability-zone") == 0 || strcmp(name, "availabilityZone") == 0)
        return s->az;
    if (strcmp(name, "availability-zone-id") == 0 || strcmp(name, "availabilityZoneId") == 0) {
        char id[48];
        vm_zone_id_of(ctx, s->az, id);
        snprintf(buf, len, "%s", id);
        return buf;
    }
    if (strcmp(name, "default-for-az") == 0 || strcmp(name, "defaultForAz") == 0)
        return s->default_for_az ? "true" : "false";
    if (strcmp(name, "map-public-ip-on-launch") == 0)
        return s->map_public_ip ? "true" : "false";
    if (strcmp(name, "state") == 0)
        return "available";
    if (strcmp(name, "owner-id") == 0)
        return ctx->account_id;
    if (strcmp(name, "available-ip-address-count") == 0) {
        vm_error ignore = { 0 };
        long used = net_count(ctx, "SELECT count(*) FROM network_interfaces WHERE subnet_id = ?", s->id, &ignore);
        snprintf(buf, len, "%lld", (long long)net_subnet_usable(&s->cidr) - (used < 0 ? 0 : used));
        return buf;
    }
    if (strcmp(name, "subnet-arn") == 0) {
        snprintf(buf, len, "arn:aws:ec2:%s:%s:subnet/%s", ctx->region, ctx->account_id, s->id);
        return buf;
    }
    if (strcmp(name, "availability-zone-id") == 0) {
        snprintf(buf, len, "%s-az1", ctx->region);
        return buf;
    }
    if (strcmp(name, "private-dns-name-options-on-launch.hostname-type") == 0)
        return "ip-name";
    if (strcmp(name, "private-dns-name-options-on-launch.enable-resource-name-dns-a-record") == 0 ||
        strcmp(name, "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record") == 0)
        return "false";
    if (strcmp(name, "ipv6-native") == 0 || strcmp(name, "enable-dns64") == 0 ||
        strcmp(name, "map-customer-owned-ip-on-launch") == 0)
        return "false";
    (void)len;
    return NULL;
}

int
subnet_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "SubnetId", &ids, &nids, err) < 0 || vm_filters_parse(p, "DescribeSubnets", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++) {
        net_subnet s;
        if (subnet_get(ctx, ids[i], &s, err) < 0)
            return -1;
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " SUBNET_COLUMNS " FROM subnets ORDER BY created_at, rowid", &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "subnetSet", "Subnets");
    while (sqlite3_step(st) == SQLITE_ROW) {
        net_subnet s;
        subnet_from_row(st, &s);
        if (nids && !vm_match_any(s.id, ids))
            continue;
        int m = net_filter_pass(ctx, fs, s.id, subnet_subject, &s, err);
        if (m < 0)
            return -1;
        if (m && render_subnet(ctx, vm_node_item(list), &s, err) < 0)
            return -1;
    }
    return 0;
}

int
subnet_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "SubnetId", err);
    net_subnet s;
    bool dry;
    if (!id || subnet_get(ctx, id, &s, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    long used = net_count(ctx, "SELECT count(*) FROM network_interfaces WHERE subnet_id = ?", id, err);
    if (used != 0) {
        vm_db_rollback(ctx->db);
        return used < 0 ? -1
                        : vm_error_set(err, VM_ERR_DEPENDENCY_VIOLATION,
                                       "The subnet '%s' has dependencies and cannot be deleted (%ld network "
                                       "interfaces)",
                                       id, used);
    }
    /* its route table association goes with it, as on EC2 */
    _cleanup_stmt_ sqlite3_stmt *a = NULL, *d = NULL;
    if (vm_db_prepare(ctx->db, "DELETE FROM rt_associations WHERE subnet_id = ?", &a, err) < 0 ||
        vm_db_prepare(ctx->db, "DELETE FROM subnets WHERE id = ?", &d, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    sqlite3_bind_text(a, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(d, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(a) != SQLITE_DONE || sqlite3_step(d) != SQLITE_DONE || vm_tags_drop(ctx, id, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        if (!vm_error_is_set(err))
            vm_db_error(ctx->db, "deleting subnet", err);
        vm_db_rollback(ctx->db);
        return -1;
    }
    vm_error ignore = { 0 };
    net_network_destroy(ctx, id, &ignore);
    return net_render_true(resp);
}

int
subnet_modify_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "SubnetId", err);
    net_subnet s;
    if (!id || subnet_get(ctx, id, &s, err) < 0)
        return -1;
    static const char *const unsupported[] = { "AssignIpv6AddressOnCreation.Value", "MapCustomerOwnedIpOnLaunch.Value",
                                               "EnableDns64.Value", "EnableLniAtDeviceIndex",
                                               "DisableLniAtDeviceIndex.Value", NULL };
    for (const char *const *u = unsupported; *u; u++)
        if (vm_params_get(p, *u))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "%s is not offered by this host (IPv4 only)", *u);
    if (!vm_params_get(p, "MapPublicIpOnLaunch.Value"))
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "One attribute is required (MapPublicIpOnLaunch)");
    bool on, dry;
    if (vm_params_bool(p, "MapPublicIpOnLaunch.Value", false, &on, err) < 0 ||
        vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "UPDATE subnets SET map_public_ip = ? WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_int(st, 1, on);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving subnet attribute", err);
    return net_render_true(resp);
}
