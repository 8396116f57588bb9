/* Subnets, under CreateSubnet, DescribeSubnets, DeleteSubnet and ModifySubnetAttribute (whose wire
 * edge is vmmgr/services/ec2/subnets.c).  Each subnet is a
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
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " SUBNET_COLUMNS " FROM subnets WHERE id = ?", "t", id) < 0)
        return -1;
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
    return vm_db_run(ctx->db, err,
                     "INSERT INTO subnets (id, vpc_id, cidr, default_for_az, map_public_ip, created_at, az) "
                     "VALUES (?, ?, ?, ?, 0, strftime('%s','now'), ?)",
                     "tttit", id, vpc_id, cidr, (long long)default_for_az, az) < 0 ? -1 : 0;
}

long
net_subnet_available(vm_ctx *ctx, const net_subnet *s, vm_error *err)
{
    long used = net_count(ctx, "SELECT count(*) FROM network_interfaces WHERE subnet_id = ?", s->id, err);
    return used < 0 ? -1 : (long)net_subnet_usable(&s->cidr) - used;
}

int
net_subnet_create(vm_ctx *ctx, const net_subnet_req *req, net_subnet *out, vm_error *err)
{
    const char *cidr = req->cidr;
    net_vpc vpc;
    net_cidr c;
    if (vpc_get(ctx, req->vpc_id, &vpc, err) < 0)
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
    if (req->zone >= (int)ctx->nzones)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "There is no availability zone %d", req->zone);
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    int zone = req->zone;
    char id[VM_ID_MAX];
    vm_id_new("subnet", id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *sib = NULL;
    if (vm_db_stmt(ctx->db, &sib, err, "SELECT " SUBNET_COLUMNS " FROM subnets WHERE vpc_id = ?", "t", vpc.id) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    size_t counts[VM_MAX_ZONES] = { 0 };
    while (sqlite3_step(sib) == SQLITE_ROW) {
        net_subnet s;
        subnet_from_row(sib, &s);
        if (net_cidr_overlap(&s.cidr, &c)) {
            vm_db_rollback(ctx->db);
            return vm_error_set(err, VM_ERR_SUBNET_CONFLICT, "The CIDR '%s' conflicts with another subnet (%s)", cidr,
                                s.id);
        }
        int z = vm_zone_find(ctx, s.az);
        if (z >= 0)
            counts[z]++;
    }
    if (zone < 0) { /* none given: EC2 chooses; here the zone with the fewest of the VPC's subnets */
        size_t best = 0;
        for (size_t z = 1; z < ctx->nzones; z++)
            if (counts[z] < counts[best])
                best = z;
        zone = (int)best;
    }
    if (subnet_insert(ctx, id, vpc.id, &c, ctx->zones[zone], false, err) < 0 ||
        vm_tags_put(ctx, id, req->tags, req->ntags, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    if (net_network_ensure(ctx, id, err) < 0) {
        vm_error ignore = { 0 };
        vm_db_run(ctx->db, &ignore, "DELETE FROM subnets WHERE id = ?", "t", id);
        vm_tags_drop(ctx, id, &ignore);
        return -1;
    }
    return subnet_get(ctx, id, out, err);
}

int
net_subnet_list(vm_ctx *ctx, net_subnet **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ net_subnet *v = NULL;
    size_t n = 0, cap = 0;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " SUBNET_COLUMNS " FROM subnets ORDER BY created_at, rowid", "") < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_array_grow(&v, n, &cap, sizeof(*v)) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        subnet_from_row(st, &v[n++]);
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading subnets", err);
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

int
net_subnet_delete(vm_ctx *ctx, const char *id, vm_error *err)
{
    net_subnet s;
    if (subnet_get(ctx, id, &s, err) < 0)
        return -1;
    if (ctx->dry_run)
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
    if (vm_db_run(ctx->db, err, "DELETE FROM rt_associations WHERE subnet_id = ?", "t", id) < 0 ||
        vm_db_run(ctx->db, err, "DELETE FROM subnets WHERE id = ?", "t", id) < 0 || vm_tags_drop(ctx, id, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    vm_error ignore = { 0 };
    net_network_destroy(ctx, id, &ignore);
    return 0;
}

int
net_subnet_set_map_public_ip(vm_ctx *ctx, const char *id, bool on, vm_error *err)
{
    net_subnet s;
    if (subnet_get(ctx, id, &s, err) < 0)
        return -1;
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    return vm_db_run(ctx->db, err, "UPDATE subnets SET map_public_ip = ? WHERE id = ?", "it", (long long)on, id) < 0 ? -1
                                                                                                                     : 0;
}
