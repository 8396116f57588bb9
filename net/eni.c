/* Network interfaces: the address allocator, what an instance's domain needs, and the network
 * side of DescribeInstances, ModifyInstanceAttribute --groups and DescribeNetworkInterfaces.
 * Every instance has one primary interface (eni-…) in one subnet, deleted when it terminates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/lock.h"
#include "../vmmgr/core/tags.h"
#include "net_priv.h"

/* The default VPC's default subnet of zone (NULL: the first zone's). */
static int
default_subnet(vm_ctx *ctx, const char *zone, char id[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT s.id FROM subnets s JOIN vpcs v ON v.id = s.vpc_id WHERE v.is_default AND "
                   "s.default_for_az AND s.az = ? ORDER BY s.created_at LIMIT 1",
                   "t", zone ? zone : ctx->az) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return zone ? vm_error_set(err, VM_ERR_VPC_NOT_FOUND,
                                   "No default subnet for availability zone: '%s'. Give --subnet-id.", zone)
                    : vm_error_set(err, VM_ERR_VPC_NOT_FOUND,
                                   "No default VPC for this user: give --subnet-id, or run 'vmmgr init' to make the "
                                   "default VPC");
    snprintf(id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 0;
}

void
net_subnet_zone(vm_ctx *ctx, const char *subnet_id, char buf[40])
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    snprintf(buf, 40, "%s", ctx->az);
    if (vm_db_stmt(ctx->db, &st, &ignore, "SELECT az FROM subnets WHERE id = ?", "t", subnet_id) < 0)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && *vm_db_text(st, 0))
        snprintf(buf, 40, "%s", vm_db_text(st, 0));
}

int
net_default_subnet_of_zone(vm_ctx *ctx, const char *zone, char id[VM_ID_MAX], vm_error *err)
{
    return default_subnet(ctx, zone, id, err);
}

void
net_instance_zone(vm_ctx *ctx, const char *instance_id, char buf[40])
{
    static const char sql[] = "SELECT s.az FROM network_interfaces n JOIN subnets s ON s.id = n.subnet_id "
                              "WHERE n.instance_id = ? ORDER BY n.rowid LIMIT 1";
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    snprintf(buf, 40, "%s", ctx->az);
    if (vm_db_stmt(ctx->db, &st, &ignore, sql, "t", instance_id) < 0)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && *vm_db_text(st, 0))
        snprintf(buf, 40, "%s", vm_db_text(st, 0));
}

static int
plan_groups(vm_ctx *ctx, const char *const *ids, size_t nids, const char *const *names, size_t nnames, net_plan *plan,
            vm_error *err)
{
    if (nids + nnames > 5)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "An interface has at most 5 security groups");
    for (size_t i = 0; i < nids + nnames; i++) {
        char gid[VM_ID_MAX], vpc[VM_ID_MAX];
        if (i < nids) {
            if (sg_get(ctx, ids[i], vpc, err) < 0)
                return -1;
            snprintf(gid, sizeof(gid), "%s", ids[i]);
        } else {
            _cleanup_stmt_ sqlite3_stmt *st = NULL;
            if (vm_db_stmt(ctx->db, &st, err, "SELECT id, vpc_id FROM security_groups WHERE name = ? AND vpc_id = ?",
                           "tt", names[i - nids], plan->vpc_id) < 0)
                return -1;
            if (sqlite3_step(st) != SQLITE_ROW)
                return vm_error_set(err, VM_ERR_GROUP_NOT_FOUND, "The security group '%s' does not exist in VPC '%s'",
                                    names[i - nids], plan->vpc_id);
            snprintf(gid, sizeof(gid), "%s", vm_db_text(st, 0));
            snprintf(vpc, sizeof(vpc), "%s", vm_db_text(st, 1));
        }
        if (strcmp(vpc, plan->vpc_id) != 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                                "Security group %s and subnet %s belong to different networks", gid, plan->subnet_id);
        bool dup = false;
        for (size_t j = 0; j < plan->ngroups; j++)
            dup |= strcmp(plan->groups[j], gid) == 0;
        if (!dup)
            snprintf(plan->groups[plan->ngroups++], VM_ID_MAX, "%s", gid);
    }
    return 0;
}

static int
ip_in_use(vm_ctx *ctx, const char *subnet, const char *ip, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT instance_id FROM network_interfaces WHERE subnet_id = ? AND ip = ?", "tt",
                   subnet, ip) < 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        return vm_error_set(err, VM_ERR_ADDRESS_IN_USE, "Address %s is in subnet's reserved address range or in use (%s)",
                            ip, vm_db_text(st, 0));
    return 0;
}

int
net_plan_launch(vm_ctx *ctx, const net_launch_req *req, long count, net_plan *plan, vm_error *err)
{
    memset(plan, 0, sizeof(*plan));
    const char *sid = req->subnet_id && *req->subnet_id ? req->subnet_id : NULL;
    const char *ip = req->private_ip && *req->private_ip ? req->private_ip : NULL;
    net_subnet s;
    if (req->zone && vm_zone_find(ctx, req->zone) < 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid availability zone: [%s]", req->zone);
    if (sid) {
        if (subnet_get(ctx, sid, &s, err) < 0)
            return -1;
        if (req->zone && strcmp(req->zone, s.az) != 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "Value (%s) for parameter availabilityZone is invalid. Subnet %s is in availability "
                                "zone %s",
                                req->zone, s.id, s.az);
    } else {
        char def[VM_ID_MAX];
        if (default_subnet(ctx, req->zone, def, err) < 0 || subnet_get(ctx, def, &s, err) < 0)
            return -1;
    }
    snprintf(plan->subnet_id, sizeof(plan->subnet_id), "%s", s.id);
    snprintf(plan->vpc_id, sizeof(plan->vpc_id), "%s", s.vpc_id);
    if (plan_groups(ctx, req->group_ids, req->n_group_ids, req->group_names, req->n_group_names, plan, err) < 0)
        return -1;
    if (plan->ngroups == 0) {
        if (sg_default_of(ctx, plan->vpc_id, plan->groups[0], err) < 0)
            return -1;
        plan->ngroups = 1;
    }
    if (ip) {
        uint32_t a;
        if (!net_addr_parse(ip, &a))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid value '%s' for privateIpAddress", ip);
        if (!net_cidr_has(&s.cidr, a))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Address %s does not fall within the subnet's "
                                "address range", ip);
        if (a < net_subnet_first(&s.cidr) || a > net_subnet_last(&s.cidr))
            return vm_error_set(err, VM_ERR_ADDRESS_IN_USE, "Address %s is in subnet's reserved address range", ip);
        if (count > 1)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                                "A private IP address can be given for one instance only (MaxCount is %ld)", count);
        net_addr_format(a, plan->ip);
        if (ip_in_use(ctx, s.id, plan->ip, err) < 0)
            return -1;
    }
    /* a public address: asked for, or the subnet's default; a subnet's default without a pool is
     * no public address (asking for one is an error) */
    plan->public_ip = req->public_ip > 0 || (req->public_ip < 0 && s.map_public_ip);
    if (plan->public_ip) {
        long free_ips = net_public_free(ctx, err);
        if (free_ips < 0)
            return -1;
        if (free_ips < count && req->public_ip > 0)
            return vm_error_set(err, VM_ERR_ADDRESS_LIMIT,
                                "Not enough public addresses for %ld instances (%ld free in the pool of vmmgr init "
                                "--public-ips)",
                                count, free_ips);
        plan->public_ip = free_ips > 0;
    }
    long used = net_count(ctx, "SELECT count(*) FROM network_interfaces WHERE subnet_id = ?", s.id, err);
    if (used < 0)
        return -1;
    if ((long long)net_subnet_usable(&s.cidr) - used < count)
        return vm_error_set(err, VM_ERR_INSUFFICIENT_ADDRESSES,
                            "There are not enough free addresses in subnet '%s' to satisfy the requested number of "
                            "instances (%lld free, %ld asked)",
                            s.id, (long long)net_subnet_usable(&s.cidr) - used, count);
    return 0;
}

/* The lowest free address of the subnet (inside the caller's transaction). */
static int
ip_allocate(vm_ctx *ctx, const net_subnet *s, char out[NET_ADDR_MAX], vm_error *err)
{
    uint32_t first = net_subnet_first(&s->cidr), last = net_subnet_last(&s->cidr);
    size_t n = last - first + 1;
    _cleanup_free_ unsigned char *used = calloc((n + 7) / 8, 1);
    if (!used)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT ip FROM network_interfaces WHERE subnet_id = ?", "t", s->id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint32_t a;
        if (net_addr_parse(vm_db_text(st, 0), &a) && a >= first && a <= last)
            used[(a - first) / 8] |= (unsigned char)(1u << ((a - first) % 8));
    }
    for (size_t i = 0; i < n; i++)
        if (!(used[i / 8] & (1u << (i % 8)))) {
            net_addr_format(first + (uint32_t)i, out);
            return 0;
        }
    return vm_error_set(err, VM_ERR_INSUFFICIENT_ADDRESSES, "There are no free addresses left in subnet '%s'", s->id);
}

/* Records an interface in subnet s (ip "" to allocate) with its groups, inside the caller's
 * transaction; instance_id NULL for a service's interface. */
static int
eni_insert(vm_ctx *ctx, const net_subnet *s, const char *want_ip, const char *instance_id, const char (*groups)[VM_ID_MAX],
           size_t ngroups, const char *description, const char *requester, const char *dns, char eni[VM_ID_MAX],
           vm_error *err)
{
    char ip[NET_ADDR_MAX], mac[18];
    if (want_ip[0]) {
        if (ip_in_use(ctx, s->id, want_ip, err) < 0)
            return -1;
        snprintf(ip, sizeof(ip), "%s", want_ip);
    } else if (ip_allocate(ctx, s, ip, err) < 0)
        return -1;
    vm_id_new("eni", eni);
    _cleanup_stmt_ sqlite3_stmt *ins = NULL, *grp = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO network_interfaces (id, subnet_id, instance_id, mac, ip, created_at, description, "
                      "requester, dns_name) VALUES (?, ?, ?, ?, ?, strftime('%s','now'), ?, ?, ?)",
                      &ins, err) < 0 ||
        vm_db_prepare(ctx->db, "INSERT INTO eni_groups (eni_id, group_id) VALUES (?, ?)", &grp, err) < 0)
        return -1;
    for (int attempt = 0;; attempt++) {
        /* QEMU's locally administered prefix and 24 random bits; the store keeps MACs unique */
        uuid_t u;
        uuid_generate_random(u);
        snprintf(mac, sizeof(mac), "52:54:00:%02x:%02x:%02x", u[0], u[1], u[2]);
        sqlite3_reset(ins);
        if (vm_db_bind(ins, err, "tttttttt", eni, s->id, instance_id, mac, ip, description ? description : "",
                       requester ? requester : "", dns ? dns : "") < 0)
            return -1;
        if (sqlite3_step(ins) == SQLITE_DONE)
            break;
        if (attempt == 8 || sqlite3_extended_errcode(ctx->db) != SQLITE_CONSTRAINT_UNIQUE)
            return vm_db_error(ctx->db, "recording network interface", err);
    }
    for (size_t i = 0; i < ngroups; i++) {
        sqlite3_reset(grp);
        if (vm_db_bind(grp, err, "tt", eni, groups[i]) < 0 || sqlite3_step(grp) != SQLITE_DONE)
            return vm_db_error(ctx->db, "recording interface groups", err);
    }
    return 0;
}

int
net_eni_record(vm_ctx *ctx, const net_plan *plan, const char *instance_id, vm_error *err)
{
    net_subnet s;
    char eni[VM_ID_MAX];
    if (subnet_get(ctx, plan->subnet_id, &s, err) < 0 ||
        eni_insert(ctx, &s, plan->ip, instance_id, plan->groups, plan->ngroups, NULL, NULL, NULL, eni, err) < 0)
        return -1;
    return plan->public_ip ? net_public_ip_assign(ctx, eni, err) : 0;
}

int
net_svc_eni_record(vm_ctx *ctx, const char *subnet_id, const char (*groups)[VM_ID_MAX], size_t ngroups,
                   const char *description, const char *requester, const char *dns, char eni[VM_ID_MAX], vm_error *err)
{
    net_subnet s;
    if (subnet_get(ctx, subnet_id, &s, err) < 0)
        return -1;
    return eni_insert(ctx, &s, "", NULL, groups, ngroups, description, requester, dns, eni, err);
}

void
eni_from_row(sqlite3_stmt *st, eni_row *e)
{
    snprintf(e->id, sizeof(e->id), "%s", vm_db_text(st, 0));
    snprintf(e->subnet, sizeof(e->subnet), "%s", vm_db_text(st, 1));
    snprintf(e->vpc, sizeof(e->vpc), "%s", vm_db_text(st, 2));
    snprintf(e->instance, sizeof(e->instance), "%s", vm_db_text(st, 3));
    snprintf(e->mac, sizeof(e->mac), "%s", vm_db_text(st, 4));
    snprintf(e->ip, sizeof(e->ip), "%s", vm_db_text(st, 5));
    e->created_at = sqlite3_column_int64(st, 6);
    snprintf(e->vpc_cidr, sizeof(e->vpc_cidr), "%s", vm_db_text(st, 7));
    net_cidr sub;
    e->gw[0] = '\0';
    if (net_cidr_parse(vm_db_text(st, 8), true, &sub))
        net_addr_format(net_subnet_gateway(&sub), e->gw);
    snprintf(e->az, sizeof(e->az), "%s", vm_db_text(st, 9));
    snprintf(e->description, sizeof(e->description), "%s", vm_db_text(st, 10));
    snprintf(e->requester, sizeof(e->requester), "%s", vm_db_text(st, 11));
}

static int eni_of_instance(vm_ctx *ctx, const char *instance_id, eni_row *e, vm_error *err);

int
net_eni_get(vm_ctx *ctx, const char *eni_id, eni_row *e, vm_error *err)
{
    if (!vm_id_valid(eni_id, "eni"))
        return vm_error_set(err, VM_ERR_ENI_NOT_FOUND, "The networkInterface ID '%s' does not exist",
                            eni_id ? eni_id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, ENI_SELECT "WHERE e.id = ?", "t", eni_id) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        eni_from_row(st, e);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading network interface", err);
}

int
net_eni_of_instance(vm_ctx *ctx, const char *instance_id, eni_row *e, vm_error *err)
{
    return eni_of_instance(ctx, instance_id, e, err);
}

/* 1 with *e when the instance has an interface, 0 when not. */
static int
eni_of_instance(vm_ctx *ctx, const char *instance_id, eni_row *e, vm_error *err)
{
    sqlite3_stmt *st = vm_ctx_stmt(ctx, ENI_SELECT "WHERE e.instance_id = ?", err);
    if (!st || vm_db_bind(st, err, "t", instance_id) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        eni_from_row(st, e);
        sqlite3_reset(st);
        return 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading network interface", err);
}

int
net_instance_nic(vm_ctx *ctx, const char *instance_id, net_nic *nic, vm_error *err)
{
    eni_row e;
    int has = eni_of_instance(ctx, instance_id, &e, err);
    if (has <= 0)
        return has;
    net_network_name(e.subnet, nic->network);
    net_tap_name(e.id, nic->tap);
    snprintf(nic->mac, sizeof(nic->mac), "%s", e.mac);
    snprintf(nic->ip, sizeof(nic->ip), "%s", e.ip);
    snprintf(nic->subnet_id, sizeof(nic->subnet_id), "%s", e.subnet);
    return 1;
}

int
net_instance_ip(vm_ctx *ctx, const char *instance_id, char ip[NET_ADDR_MAX], vm_error *err)
{
    eni_row e;
    int has = eni_of_instance(ctx, instance_id, &e, err);
    if (has < 0)
        return -1;
    snprintf(ip, NET_ADDR_MAX, "%s", has ? e.ip : "");
    return 0;
}

static void
dns_name(vm_ctx *ctx, const char *ip, char *buf, size_t len)
{
    char dom[64];
    char label[32];
    snprintf(label, sizeof(label), "ip-%s", ip);
    for (char *c = label; *c; c++)
        if (*c == '.')
            *c = '-';
    snprintf(buf, len, "%s.%s", label, net_region_domain(ctx, dom, sizeof(dom)));
}

static const char *eni_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len);

int
net_instance_filter_value(vm_ctx *ctx, const char *instance_id, const char *name, char *buf, size_t len,
                          vm_error *err)
{
    bool ip = strcmp(name, "private-ip-address") == 0 ||
              strcmp(name, "network-interface.addresses.private-ip-address") == 0;
    bool subnet = strcmp(name, "subnet-id") == 0, vpc = strcmp(name, "vpc-id") == 0;
    bool dns = strcmp(name, "private-dns-name") == 0 || strcmp(name, "network-interface.private-dns-name") == 0;
    const char *group = strcmp(name, "group-id") == 0 || strcmp(name, "instance.group-id") == 0       ? "group-id"
                        : strcmp(name, "group-name") == 0 || strcmp(name, "instance.group-name") == 0 ? "group-name"
                                                                                                     : NULL;
    bool nic = strncmp(name, "network-interface.", 18) == 0 || group;
    if (!ip && !subnet && !vpc && !dns && !nic)
        return 0;
    eni_row e;
    int has = eni_of_instance(ctx, instance_id, &e, err);
    if (has < 0)
        return -1;
    if (nic && !dns && !ip) {
        /* network-interface.X: the instance's interface as DescribeNetworkInterfaces filters it;
         * the instance's groups are its interface's */
        char own[1024];
        const char *s = has ? eni_subject(ctx, &e, group ? group : name + 18, own, sizeof(own)) : NULL;
        if (!s)
            return 0;
        snprintf(buf, len, "%s", s);
        return 1;
    }
    if (!has)
        snprintf(buf, len, "%s", "");
    else if (dns)
        dns_name(ctx, e.ip, buf, len);
    else
        snprintf(buf, len, "%s", ip ? e.ip : subnet ? e.subnet : e.vpc);
    return 1;
}

int
net_instance_prepare(vm_ctx *ctx, const char *instance_id, vm_error *err)
{
    eni_row e;
    int has = eni_of_instance(ctx, instance_id, &e, err);
    if (has <= 0)
        return has;
    /* the network (with this interface's DHCP entry and name), every other subnet's DNS, then
     * the interface's elements in the firewall (before its tap exists: never unfiltered) */
    if (net_dns_eni(ctx, e.vpc, e.subnet, e.mac, e.ip, true, err) < 0 || net_fw_eni_add(ctx, e.id, err) < 0)
        return -1;
    /* its public address answered on the uplink */
    char pub[NET_ADDR_MAX];
    if (net_instance_public(ctx, e.id, pub, NULL, 0, NULL, NULL))
        net_eip_plumb(ctx, pub, e.subnet, true);
    return 0;
}

int
net_instance_release(vm_ctx *ctx, const char *instance_id, vm_error *err)
{
    eni_row e;
    int has = eni_of_instance(ctx, instance_id, &e, err);
    if (has <= 0)
        return has;
    /* the domain is gone: its elements (with its public address's) can go; a crash after this
     * repeats the release; then its Elastic IP stays allocated, associated with nothing, and a
     * public address from the pool goes back to it */
    int fw = -1;
    if (net_fw_eni_delete(ctx, e.id, &fw, err) < 0 || net_eip_release_eni(ctx, e.id, e.subnet, err) < 0) {
        if (fw >= 0)
            vm_lock_release(fw);
        return -1;
    }
    _cleanup_stmt_ sqlite3_stmt *d = NULL;
    int rc = net_dhcp_release(ctx, e.subnet, e.ip, e.mac, err);
    if (rc == 0)
        rc = vm_db_prepare(ctx->db, "DELETE FROM network_interfaces WHERE id = ?", &d, err);
    if (rc == 0) {
        if (vm_db_bind(d, err, "t", e.id) < 0 || sqlite3_step(d) != SQLITE_DONE)
            rc = vm_db_error(ctx->db, "freeing the address", err);
    }
    if (fw >= 0)
        vm_lock_release(fw);
    if (rc < 0)
        return -1;
    /* its row is gone: a network that has to be converged no longer gets its entries back */
    return net_dns_eni(ctx, e.vpc, e.subnet, e.mac, e.ip, false, err);
}

static int
render_groups(vm_ctx *ctx, vm_node *list, const char *eni_id, vm_error *err)
{
    sqlite3_stmt *st = vm_ctx_stmt(ctx,
                                   "SELECT g.group_id, s.name FROM eni_groups g JOIN security_groups s "
                                   "ON s.id = g.group_id WHERE g.eni_id = ? ORDER BY s.name",
                                   err);
    if (!st || vm_db_bind(st, err, "t", eni_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        vm_node *g = vm_node_item(list);
        vm_node_str(g, "groupId", NULL, vm_db_text(st, 0));
        vm_node_str(g, "groupName", NULL, vm_db_text(st, 1));
    }
    sqlite3_reset(st);
    return 0;
}

/* The interface's members shared by the instance's networkInterfaceSet and DescribeNetworkInterfaces. */
static int
render_eni(vm_ctx *ctx, vm_node *it, const eni_row *e, bool full, vm_error *err)
{
    char dns[128], att[VM_ID_MAX + 8];
    dns_name(ctx, e->ip, dns, sizeof(dns));
    vm_node_str(it, "networkInterfaceId", NULL, e->id);
    vm_node_str(it, "subnetId", NULL, e->subnet);
    vm_node_str(it, "vpcId", NULL, e->vpc);
    if (full)
        vm_node_str(it, "availabilityZone", NULL, e->az);
    vm_node_str(it, "description", NULL, e->description);
    vm_node_str(it, "ownerId", NULL, ctx->account_id);
    if (full && e->requester[0])
        vm_node_str(it, "requesterId", NULL, e->requester);
    vm_node_str(it, "status", NULL, e->instance[0] || e->requester[0] ? "in-use" : "available");
    vm_node_str(it, "macAddress", NULL, e->mac);
    vm_node_str(it, "privateIpAddress", NULL, e->ip);
    vm_node_str(it, "privateDnsName", NULL, dns);
    vm_node_bool(it, "sourceDestCheck", NULL, true);
    vm_node_str(it, "interfaceType", NULL, "interface");
    if (render_groups(ctx, vm_node_list(it, "groupSet", "Groups"), e->id, err) < 0)
        return -1;
    if (e->instance[0] || e->requester[0]) {
        vm_node *a = vm_node_struct(it, "attachment", NULL);
        snprintf(att, sizeof(att), "eni-attach-%s", e->id + 4);
        vm_node_str(a, "attachmentId", NULL, att);
        if (full && e->instance[0]) {
            vm_node_str(a, "instanceId", NULL, e->instance);
            vm_node_str(a, "instanceOwnerId", NULL, ctx->account_id);
        } else if (full) {
            vm_node_str(a, "instanceOwnerId", NULL, e->requester);
        }
        vm_node_int(a, "deviceIndex", NULL, e->instance[0] ? 0 : 1);
        vm_node_str(a, "status", NULL, "attached");
        vm_node_time(a, "attachTime", NULL, e->created_at);
        vm_node_bool(a, "deleteOnTermination", NULL, true);
    }
    vm_node *ips = vm_node_list(it, "privateIpAddressesSet", "PrivateIpAddresses");
    vm_node *one = vm_node_item(ips);
    vm_node_str(one, "privateIpAddress", NULL, e->ip);
    vm_node_str(one, "privateDnsName", NULL, dns);
    vm_node_bool(one, "primary", NULL, true);
    vm_node_list(it, "ipv6AddressesSet", "Ipv6Addresses");
    char pub[NET_ADDR_MAX], pdns[128], alloc[VM_ID_MAX];
    if (net_instance_public(ctx, e->id, pub, pdns, sizeof(pdns), alloc, NULL)) {
        /* the interface's association, and its primary address's */
        for (vm_node *n = it; n; n = n == it ? one : NULL) {
            vm_node *as = vm_node_struct(n, "association", NULL);
            /* a public address given at launch is Amazon's, an Elastic IP the account's */
            vm_node_str(as, "ipOwnerId", NULL, alloc[0] ? ctx->account_id : "amazon");
            vm_node_str(as, "publicDnsName", NULL, pdns);
            vm_node_str(as, "publicIp", NULL, pub);
            if (full && alloc[0])
                vm_node_str(as, "allocationId", NULL, alloc);
        }
    }
    if (full) {
        vm_node_bool(it, "requesterManaged", NULL, e->requester[0] != '\0');
        return vm_tags_render(ctx, it, e->id, err);
    }
    return 0;
}

int
net_instance_render(vm_ctx *ctx, vm_node *it, const char *instance_id, vm_error *err)
{
    eni_row e;
    int has = eni_of_instance(ctx, instance_id, &e, err);
    if (has < 0)
        return -1;
    if (!has) {
        vm_node_str(it, "privateDnsName", NULL, "");
        vm_node_str(it, "dnsName", "PublicDnsName", "");
        vm_node_list(it, "groupSet", "SecurityGroups");
        vm_node_list(it, "networkInterfaceSet", "NetworkInterfaces");
        return 0;
    }
    char dns[128];
    dns_name(ctx, e.ip, dns, sizeof(dns));
    vm_node_str(it, "privateDnsName", NULL, dns);
    vm_node_str(it, "privateIpAddress", NULL, e.ip);
    vm_node_str(it, "subnetId", NULL, e.subnet);
    vm_node_str(it, "vpcId", NULL, e.vpc);
    vm_node_bool(it, "sourceDestCheck", NULL, true);
    char pub[NET_ADDR_MAX], pdns[128];
    if (net_instance_public(ctx, e.id, pub, pdns, sizeof(pdns), NULL, NULL)) {
        vm_node_str(it, "ipAddress", "PublicIpAddress", pub);
        vm_node_str(it, "dnsName", "PublicDnsName", pdns);
    } else {
        vm_node_str(it, "dnsName", "PublicDnsName", "");
    }
    if (render_groups(ctx, vm_node_list(it, "groupSet", "SecurityGroups"), e.id, err) < 0)
        return -1;
    return render_eni(ctx, vm_node_item(vm_node_list(it, "networkInterfaceSet", "NetworkInterfaces")), &e, false, err);
}

int
net_instance_set_groups(vm_ctx *ctx, const char *instance_id, const char *const *group_ids, size_t n, vm_error *err)
{
    eni_row e;
    int has = eni_of_instance(ctx, instance_id, &e, err);
    if (has < 0)
        return -1;
    if (!has)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Instance %s has no network interface", instance_id);
    net_plan plan = { 0 };
    snprintf(plan.subnet_id, sizeof(plan.subnet_id), "%s", e.subnet);
    snprintf(plan.vpc_id, sizeof(plan.vpc_id), "%s", e.vpc);
    if (plan_groups(ctx, group_ids, n, NULL, 0, &plan, err) < 0)
        return -1;
    if (plan.ngroups == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain at least one GroupId");
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (net_eni_groups_replace(ctx, e.id, (const char(*)[VM_ID_MAX])plan.groups, plan.ngroups, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return net_fw_sync(ctx, err);
}

int
net_eni_groups_replace(vm_ctx *ctx, const char *eni_id, const char (*groups)[VM_ID_MAX], size_t n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *d = NULL, *ins = NULL;
    if (vm_db_prepare(ctx->db, "DELETE FROM eni_groups WHERE eni_id = ?", &d, err) < 0 ||
        vm_db_prepare(ctx->db, "INSERT INTO eni_groups (eni_id, group_id) VALUES (?, ?)", &ins, err) < 0 ||
        vm_db_bind(d, err, "t", eni_id) < 0)
        return -1;
    if (sqlite3_step(d) != SQLITE_DONE)
        return vm_db_error(ctx->db, "replacing groups", err);
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(ins);
        if (vm_db_bind(ins, err, "tt", eni_id, groups[i]) < 0 || sqlite3_step(ins) != SQLITE_DONE)
            return vm_db_error(ctx->db, "replacing groups", err);
    }
    return 0;
}

int
net_vpc_addrs(vm_ctx *ctx, const char *vpc_id, net_vpc_addr **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT e.mac, e.ip, e.subnet_id, e.dns_name FROM network_interfaces e "
                   "JOIN subnets s ON s.id = e.subnet_id "
                   "WHERE s.vpc_id = ? ORDER BY e.created_at, e.id",
                   "t", vpc_id) < 0)
        return -1;
    _cleanup_free_ net_vpc_addr *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_array_grow(&v, n, &cap, sizeof(*v)) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        net_vpc_addr *a = &v[n++];
        snprintf(a->mac, sizeof(a->mac), "%s", vm_db_text(st, 0));
        snprintf(a->ip, sizeof(a->ip), "%s", vm_db_text(st, 1));
        snprintf(a->subnet_id, sizeof(a->subnet_id), "%s", vm_db_text(st, 2));
        snprintf(a->dns_name, sizeof(a->dns_name), "%s", vm_db_text(st, 3));
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading a VPC's interfaces", err);
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

static const char *
eni_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    const eni_row *e = obj;
    if (strcmp(name, "network-interface-id") == 0)
        return e->id;
    if (strcmp(name, "subnet-id") == 0)
        return e->subnet;
    if (strcmp(name, "vpc-id") == 0)
        return e->vpc;
    if (strcmp(name, "attachment.instance-id") == 0)
        return e->instance;
    if (strcmp(name, "private-ip-address") == 0 || strcmp(name, "addresses.private-ip-address") == 0)
        return e->ip;
    if (strcmp(name, "mac-address") == 0)
        return e->mac;
    if (strcmp(name, "status") == 0)
        return e->instance[0] || e->requester[0] ? "in-use" : "available";
    if (strcmp(name, "availability-zone") == 0)
        return e->az;
    if (strcmp(name, "owner-id") == 0 || (e->instance[0] && strcmp(name, "attachment.instance-owner-id") == 0))
        return ctx->account_id;
    if (strcmp(name, "interface-type") == 0)
        return "interface";
    if (strcmp(name, "source-dest-check") == 0)
        return "true";
    if (strcmp(name, "requester-managed") == 0)
        return e->requester[0] ? "true" : "false";
    if (strcmp(name, "requester-id") == 0)
        return e->requester;
    if (e->instance[0] && strcmp(name, "attachment.status") == 0)
        return "attached";
    if (e->instance[0] && strcmp(name, "attachment.device-index") == 0)
        return "0";
    if (e->instance[0] && strcmp(name, "attachment.delete-on-termination") == 0)
        return "true";
    if (e->instance[0] && strcmp(name, "attachment.attachment-id") == 0) {
        snprintf(buf, len, "eni-attach-%s", e->id + 4);
        return buf;
    }
    if (strcmp(name, "description") == 0)
        return e->description;
    if (strncmp(name, "association.", 12) == 0 || strncmp(name, "addresses.association.", 22) == 0) {
        /* its Elastic IP */
        const char *what = name[1] == 'd' ? name + 22 : name + 12;
        char pub[NET_ADDR_MAX], pdns[128], alloc[VM_ID_MAX], assoc[VM_ID_MAX];
        if (!net_instance_public(ctx, e->id, pub, pdns, sizeof(pdns), alloc, assoc))
            return "";
        if (strcmp(what, "public-ip") == 0)
            snprintf(buf, len, "%s", pub);
        else if (strcmp(what, "public-dns-name") == 0)
            snprintf(buf, len, "%s", pdns);
        else if (strcmp(what, "allocation-id") == 0)
            snprintf(buf, len, "%s", alloc);
        else if (strcmp(what, "ip-owner-id") == 0)
            snprintf(buf, len, "%s", alloc[0] ? ctx->account_id : "amazon");
        else if (strcmp(what, "association-id") == 0)
            snprintf(buf, len, "%s", assoc);
        else
            buf[0] = '\0';
        return buf;
    }
    if (strcmp(name, "private-dns-name") == 0) {
        dns_name(ctx, e->ip, buf, len);
        return buf;
    }
    if (strcmp(name, "group-id") == 0 || strcmp(name, "group-name") == 0) {
        /* one line per group */
        vm_error ignore = { 0 };
        sqlite3_stmt *st = vm_ctx_stmt(ctx,
                                       "SELECT g.group_id, s.name FROM eni_groups g JOIN security_groups s "
                                       "ON s.id = g.group_id WHERE g.eni_id = ? ORDER BY s.name",
                                       &ignore);
        if (!st || vm_db_bind(st, &ignore, "t", e->id) < 0)
            return NULL;
        size_t off = 0;
        buf[0] = '\0';
        while (sqlite3_step(st) == SQLITE_ROW && off < len)
            off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "\n" : "", vm_db_text(st, name[6] == 'i' ? 0 : 1));
        sqlite3_reset(st);
        return buf;
    }
    return NULL;
}

int
net_eni_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp, vm_error *err)
{
    for (size_t i = 0; i < nids; i++) {
        if (!vm_id_valid(ids[i], "eni"))
            return vm_error_set(err, VM_ERR_ENI_NOT_FOUND, "The networkInterface ID '%s' is malformed", ids[i]);
        if (net_count(ctx, "SELECT count(*) FROM network_interfaces WHERE id = ?", ids[i], err) != 1)
            return vm_error_set(err, VM_ERR_ENI_NOT_FOUND, "The networkInterface ID '%s' does not exist", ids[i]);
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, ENI_SELECT "ORDER BY e.created_at, e.id", "") < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "networkInterfaceSet", "NetworkInterfaces");
    while (sqlite3_step(st) == SQLITE_ROW) {
        eni_row e;
        eni_from_row(st, &e);
        if (nids && !vm_match_any(e.id, ids))
            continue;
        int m = vm_filter_pass(ctx, fs, e.id, eni_subject, &e, err);
        if (m < 0)
            return -1;
        if (m && render_eni(ctx, vm_node_item(list), &e, true, err) < 0)
            return -1;
    }
    return 0;
}
