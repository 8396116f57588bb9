/* Elastic IPs: Allocate/Associate/Disassociate/Release/DescribeAddresses.  The addresses come from a
 * pool of the operator's LAN (`vmmgr init --public-ips 192.168.1.200-192.168.1.220`); an associated
 * address is 1:1 NAT to its interface's private address, answered on the uplink:
 *   - nftables (net/fw.c): map eip_dnat (public → private) in prerouting for what comes in through
 *     the uplink, map eip_snat (private → public) in postrouting for what the guest sends out, and
 *     chain ingress_pub, where the security groups decide what gets in;
 *   - the host's ARP: a proxy entry for the address on the uplink (`ip neigh add proxy`) and a /32
 *     route to the interface's bridge, which the kernel's proxy ARP requires (eip_plumb).
 * Like EC2, the VPC must have an internet gateway, and what leaves still needs its subnet's route. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"
#include "net_priv.h"

/* --- the pool ------------------------------------------------------------------------------------ */

/* The pool "A-B" (or a block, or "none") as a range; false when s is neither. */
static bool
pool_parse(const char *s, uint32_t *first, uint32_t *last)
{
    char a[NET_CIDR_MAX + 1];
    const char *dash = strchr(s, '-');
    net_cidr c;
    if (dash && (size_t)(dash - s) < sizeof(a)) {
        snprintf(a, sizeof(a), "%.*s", (int)(dash - s), s);
        return net_addr_parse(a, first) && net_addr_parse(dash + 1, last) && *first <= *last &&
               *last - *first < 65536;
    }
    if (net_cidr_parse(s, true, &c) && c.prefix >= 16) {
        *first = c.addr;
        *last = c.addr + (uint32_t)(net_cidr_size(&c) - 1);
        return true;
    }
    if (net_addr_parse(s, first)) {
        *last = *first;
        return true;
    }
    return false;
}

int
net_public_ips_set(vm_ctx *ctx, const char *spec, vm_error *err)
{
    uint32_t first, last;
    char a[NET_ADDR_MAX], b[NET_ADDR_MAX], v[2 * NET_ADDR_MAX + 1] = "";
    if (spec && strcmp(spec, "none") != 0) {
        if (!pool_parse(spec, &first, &last))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "'%s' is not a pool of public addresses: FIRST-LAST (192.168.1.200-192.168.1.220), "
                                "a block of /16 or smaller, or one address",
                                spec);
        net_addr_format(first, a);
        net_addr_format(last, b);
        snprintf(v, sizeof(v), "%s-%s", a, b);
    }
    /* an allocated address outside the new pool stays the owner's until released */
    return vm_config_set(ctx, "public_ips", v, err);
}

/* --- records ------------------------------------------------------------------------------------- */

typedef struct eip_row {
    char alloc[VM_ID_MAX], ip[NET_ADDR_MAX], assoc[VM_ID_MAX];
    eni_row eni; /* when associated */
    bool associated;
} eip_row;

/* Elastic IPs: the pool's addresses allocated by AllocateAddress (not the public addresses given
 * at launch, auto = 1, which are their instance's) */
#define EIP_SELECT "SELECT allocation_id, public_ip, association_id, eni_id FROM addresses WHERE auto = 0 "

static int
eip_from_row(vm_ctx *ctx, sqlite3_stmt *st, eip_row *r, vm_error *err)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->alloc, sizeof(r->alloc), "%s", vm_db_text(st, 0));
    snprintf(r->ip, sizeof(r->ip), "%s", vm_db_text(st, 1));
    snprintf(r->assoc, sizeof(r->assoc), "%s", vm_db_text(st, 2));
    if (!*vm_db_text(st, 3))
        return 0;
    int has = net_eni_get(ctx, vm_db_text(st, 3), &r->eni, err);
    if (has < 0)
        return -1;
    r->associated = has;
    return 0;
}

/* The address named by AllocationId (or, without one, PublicIp): 0, or -1 with err set. */
static int
eip_find(vm_ctx *ctx, const vm_params *p, eip_row *r, vm_error *err)
{
    const char *alloc = vm_params_get(p, "AllocationId"), *ip = vm_params_get(p, "PublicIp");
    if (!alloc && !ip)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter AllocationId");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, alloc ? EIP_SELECT "AND allocation_id = ?" : EIP_SELECT "AND public_ip = ?", &st,
                      err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, alloc ? alloc : ip, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return alloc ? vm_error_set(err, VM_ERR_ALLOCATION_NOT_FOUND, "The allocation ID '%s' does not exist", alloc)
                     : vm_error_set(err, VM_ERR_ADDRESS_NOT_FOUND, "Address '%s' not found.", ip);
    return eip_from_row(ctx, st, r, err);
}

/* --- the host side --------------------------------------------------------------------------------- */

/* The proxy ARP entry on the uplink and the /32 route to the interface's bridge (add), or their
 * removal; best effort (a remote libvirt, no uplink: nothing to do). */
void
net_eip_plumb(vm_ctx *ctx, const char *ip, const char *subnet, bool add)
{
    long pid = net_libvirtd_pid(ctx);
    _cleanup_free_ char *uplink = vm_config_get(ctx, "uplink");
    if (!pid || !uplink || !net_ifname_valid(uplink))
        return;
    char br[16], dst[NET_CIDR_MAX];
    net_bridge_name(subnet, br);
    snprintf(dst, sizeof(dst), "%s/32", ip);
    vm_error ignore = { 0 };
    const char *route[] = { "ip", "route", add ? "replace" : "del", dst, "dev", br, NULL };
    const char *neigh[] = { "ip", "neigh", add ? "replace" : "del", "proxy", ip, "dev", uplink, NULL };
    net_run_in_netns(pid, route, &ignore);
    ignore = (vm_error){ 0 };
    net_run_in_netns(pid, neigh, &ignore);
}

static void
plumb_all(vm_ctx *ctx, bool add)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_prepare(ctx->db,
                      "SELECT a.public_ip, e.subnet_id FROM addresses a JOIN network_interfaces e ON e.id = a.eni_id",
                      &st, &ignore) < 0)
        return;
    while (sqlite3_step(st) == SQLITE_ROW)
        net_eip_plumb(ctx, vm_db_text(st, 0), vm_db_text(st, 1), add);
}

void
net_eip_plumb_all(vm_ctx *ctx)
{
    plumb_all(ctx, true);
}

void
net_eip_unplumb_all(vm_ctx *ctx)
{
    plumb_all(ctx, false);
}

int
net_eip_elements(vm_ctx *ctx, FILE *f, const char *t, const char *verb, const char *eni_id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT a.public_ip, e.ip FROM addresses a JOIN network_interfaces e ON e.id = a.eni_id "
                      "WHERE a.eni_id = ?",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, eni_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *pub = vm_db_text(st, 0), *priv = vm_db_text(st, 1);
        /* a delete names the key only */
        if (strcmp(verb, "delete") == 0)
            fprintf(f, "delete element inet %s eip_dnat { %s }\ndelete element inet %s eip_snat { %s }\n", t, pub, t,
                    priv);
        else
            fprintf(f, "add element inet %s eip_dnat { %s : %s }\nadd element inet %s eip_snat { %s : %s }\n", t, pub,
                    priv, t, priv, pub);
        fprintf(f, "%s element inet %s eip_private { %s }\n", verb, t, priv);
    }
    return 0;
}

long
net_public_free(vm_ctx *ctx, vm_error *err)
{
    _cleanup_free_ char *range = vm_config_get(ctx, "public_ips");
    uint32_t first, last;
    if (!range || !*range || !pool_parse(range, &first, &last))
        return 0;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT public_ip FROM addresses", &st, err) < 0)
        return -1;
    long used = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint32_t a;
        used += net_addr_parse(vm_db_text(st, 0), &a) && a >= first && a <= last;
    }
    return (long)(last - first + 1) - used;
}

/* The pool's lowest free address (the one asked for, want != 0): 0 with ip, -1 with err. */
static int
pool_take(vm_ctx *ctx, uint32_t want, char ip[NET_ADDR_MAX], vm_error *err)
{
    _cleanup_free_ char *range = vm_config_get(ctx, "public_ips");
    uint32_t first, last;
    if (!range || !*range || !pool_parse(range, &first, &last))
        return vm_error_set(err, VM_ERR_ADDRESS_LIMIT,
                            "This host has no public addresses to give: vmmgr init --public-ips FIRST-LAST names "
                            "a pool of the LAN's");
    if (want && (want < first || want > last)) {
        char w[NET_ADDR_MAX];
        net_addr_format(want, w);
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The address %s is not in this host's pool (%s)", w,
                            range);
    }
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_prepare(ctx->db, "SELECT 1 FROM addresses WHERE public_ip = ?", &q, err) < 0)
        return -1;
    for (uint64_t a = want ? want : first; a <= (want ? want : last); a++) {
        net_addr_format((uint32_t)a, ip);
        sqlite3_reset(q);
        sqlite3_bind_text(q, 1, ip, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_ROW)
            return 0;
    }
    ip[0] = '\0';
    if (want) {
        char w[NET_ADDR_MAX];
        net_addr_format(want, w);
        return vm_error_set(err, VM_ERR_ADDRESS_IN_USE, "The address %s is already allocated.", w);
    }
    return vm_error_set(err, VM_ERR_ADDRESS_LIMIT,
                        "The maximum number of addresses has been reached (the pool %s is used up).", range);
}

bool
net_public_pool(vm_ctx *ctx)
{
    _cleanup_free_ char *range = vm_config_get(ctx, "public_ips");
    uint32_t first, last;
    return range && *range && pool_parse(range, &first, &last);
}

int
net_public_ip_assign(vm_ctx *ctx, const char *eni_id, vm_error *err)
{
    char ip[NET_ADDR_MAX], alloc[VM_ID_MAX], assoc[VM_ID_MAX];
    if (pool_take(ctx, 0, ip, err) < 0)
        return -1;
    vm_id_new("eipalloc", alloc);
    vm_id_new("eipassoc", assoc);
    _cleanup_stmt_ sqlite3_stmt *ins = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO addresses (allocation_id, public_ip, association_id, eni_id, auto, created_at) "
                      "VALUES (?, ?, ?, ?, 1, strftime('%s','now'))",
                      &ins, err) < 0)
        return -1;
    sqlite3_bind_text(ins, 1, alloc, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, ip, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, assoc, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 4, eni_id, -1, SQLITE_STATIC);
    return sqlite3_step(ins) == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "recording the public address", err);
}

/* Takes the address off its interface (inside the caller's transaction). */
static int
eip_unset(vm_ctx *ctx, const char *alloc, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "UPDATE addresses SET association_id = '', eni_id = '' WHERE allocation_id = ?", &st,
                      err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, alloc, -1, SQLITE_STATIC);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "disassociating address", err);
}

int
net_eip_release_eni(vm_ctx *ctx, const char *eni_id, const char *subnet, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT allocation_id, public_ip, auto FROM addresses WHERE eni_id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, eni_id, -1, SQLITE_STATIC);
    char alloc[VM_ID_MAX] = "", ip[NET_ADDR_MAX] = "";
    bool given = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(alloc, sizeof(alloc), "%s", vm_db_text(st, 0));
        snprintf(ip, sizeof(ip), "%s", vm_db_text(st, 1));
        given = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(TAKE_PTR(st));
    if (!alloc[0])
        return 0;
    /* as on EC2, a terminated instance's Elastic IP stays allocated, associated with nothing; a
     * public address given at launch goes back to the pool */
    if (given) {
        _cleanup_stmt_ sqlite3_stmt *d = NULL;
        if (vm_db_prepare(ctx->db, "DELETE FROM addresses WHERE allocation_id = ?", &d, err) < 0)
            return -1;
        sqlite3_bind_text(d, 1, alloc, -1, SQLITE_STATIC);
        if (sqlite3_step(d) != SQLITE_DONE)
            return vm_db_error(ctx->db, "releasing the public address", err);
    } else if (eip_unset(ctx, alloc, err) < 0)
        return -1;
    net_eip_plumb(ctx, ip, subnet, false);
    return 0;
}

/* --- actions ---------------------------------------------------------------------------------------- */

static void
public_dns(vm_ctx *ctx, const char *ip, char *buf, size_t len)
{
    char dashed[NET_ADDR_MAX];
    snprintf(dashed, sizeof(dashed), "%s", ip);
    for (char *c = dashed; *c; c++)
        *c = *c == '.' ? '-' : *c;
    if (strcmp(ctx->region, "us-east-1") == 0)
        snprintf(buf, len, "ec2-%s.compute-1.amazonaws.com", dashed);
    else
        snprintf(buf, len, "ec2-%s.%s.compute.amazonaws.com", dashed, ctx->region);
}

static int
render_eip(vm_ctx *ctx, vm_node *it, const eip_row *r, vm_error *err)
{
    vm_node_str(it, "publicIp", NULL, r->ip);
    vm_node_str(it, "allocationId", NULL, r->alloc);
    vm_node_str(it, "domain", NULL, "vpc");
    vm_node_str(it, "publicIpv4Pool", NULL, "amazon");
    vm_node_str(it, "networkBorderGroup", NULL, ctx->region);
    if (r->associated) {
        vm_node_str(it, "associationId", NULL, r->assoc);
        if (r->eni.instance[0])
            vm_node_str(it, "instanceId", NULL, r->eni.instance);
        vm_node_str(it, "networkInterfaceId", NULL, r->eni.id);
        vm_node_str(it, "networkInterfaceOwnerId", NULL, ctx->account_id);
        vm_node_str(it, "privateIpAddress", NULL, r->eni.ip);
    }
    return vm_tags_render(ctx, it, r->alloc, err);
}

int
eip_allocate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *domain = vm_params_get(p, "Domain"), *want = vm_params_get(p, "Address");
    const char *pool = vm_params_get(p, "PublicIpv4Pool");
    bool dry;
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (domain && strcmp(domain, "vpc") != 0 && strcmp(domain, "standard") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter domain is invalid.",
                            domain);
    if (domain && strcmp(domain, "standard") == 0)
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION, "EC2-Classic addresses are retired: use Domain vpc");
    if (pool && strcmp(pool, "amazon") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The pool '%s' does not exist: this host has one pool (amazon, its --public-ips)", pool);
    if (vm_params_get(p, "CustomerOwnedIpv4Pool"))
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION, "Customer-owned pools are not offered by this host");
    if (vm_params_bool(p, "DryRun", false, &dry, err) < 0 || vm_tags_from_spec(p, "elastic-ip", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    uint32_t w = 0;
    if (want && !net_addr_parse(want, &w))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter address is invalid.", want);
    if (dry) {
        /* the pool is checked as it is now */
        char ip[NET_ADDR_MAX];
        return pool_take(ctx, w, ip, err) < 0 ? -1 : vm_error_dry_run(err);
    }
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    eip_row r = { 0 };
    _cleanup_stmt_ sqlite3_stmt *ins = NULL;
    /* the address asked for, or the lowest free one */
    if (pool_take(ctx, w, r.ip, err) < 0)
        goto fail;
    vm_id_new("eipalloc", r.alloc);
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO addresses (allocation_id, public_ip, created_at) VALUES (?, ?, strftime('%s','now'))",
                      &ins, err) < 0)
        goto fail;
    sqlite3_bind_text(ins, 1, r.alloc, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, r.ip, -1, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE) {
        vm_db_error(ctx->db, "recording address", err);
        goto fail;
    }
    if (vm_tags_put(ctx, r.alloc, owned, ntags, err) < 0 || vm_db_commit(ctx->db, err) < 0)
        goto fail;
    vm_node_str(resp, "publicIp", NULL, r.ip);
    vm_node_str(resp, "allocationId", NULL, r.alloc);
    vm_node_str(resp, "publicIpv4Pool", NULL, "amazon");
    vm_node_str(resp, "networkBorderGroup", NULL, ctx->region);
    vm_node_str(resp, "domain", NULL, "vpc");
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
eip_associate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    eip_row r;
    eni_row e;
    bool dry, again;
    const char *inst = vm_params_get(p, "InstanceId"), *eni = vm_params_get(p, "NetworkInterfaceId");
    const char *priv = vm_params_get(p, "PrivateIpAddress");
    if (eip_find(ctx, p, &r, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0 ||
        vm_params_bool(p, "AllowReassociation", false, &again, err) < 0)
        return -1;
    if (!inst == !eni)
        return vm_error_set(err, inst ? VM_ERR_INVALID_PARAMETER_COMBINATION : VM_ERR_MISSING_PARAMETER,
                            "The request must contain exactly one of instanceId or networkInterfaceId");
    int has = inst ? (vm_id_valid(inst, "i") ? net_eni_of_instance(ctx, inst, &e, err)
                                             : vm_error_set(err, VM_ERR_INSTANCE_MALFORMED, "Invalid id: \"%s\"", inst))
                   : net_eni_get(ctx, eni, &e, err);
    if (has < 0)
        return -1;
    if (!has)
        return inst ? vm_error_set(err, VM_ERR_INSTANCE_NOT_FOUND,
                                   "The instance ID '%s' does not exist (or has no network interface)", inst)
                    : vm_error_set(err, VM_ERR_ENI_NOT_FOUND, "The networkInterface ID '%s' does not exist", eni);
    if (e.requester[0])
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The network interface %s is managed by %s: its addresses are not yours to change", e.id,
                            e.requester);
    if (priv && strcmp(priv, e.ip) != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The private address %s is not an address of %s (it has %s)", priv, e.id, e.ip);
    long gws = net_count(ctx, "SELECT count(*) FROM internet_gateways WHERE vpc_id = ?", e.vpc, err);
    if (gws < 0)
        return -1;
    if (!gws)
        return vm_error_set(err, VM_ERR_GATEWAY_NOT_ATTACHED, "Network %s is not attached to any internet gateway",
                            e.vpc);
    if (r.associated && !again && strcmp(r.eni.id, e.id) != 0)
        return vm_error_set(err, VM_ERR_ALREADY_ASSOCIATED,
                            "resource %s is already associated with associate-id %s", r.alloc, r.assoc);
    if (dry)
        return vm_error_dry_run(err);
    char assoc[VM_ID_MAX], had[NET_ADDR_MAX];
    vm_id_new("eipassoc", assoc);
    bool had_one = net_instance_public(ctx, e.id, had, NULL, 0, NULL, NULL) && strcmp(had, r.ip) != 0;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    /* one public address per interface: an Elastic IP it had goes back to its allocation,
     * unassociated; a public address from its launch goes back to the pool */
    _cleanup_stmt_ sqlite3_stmt *given = NULL, *prev = NULL, *st = NULL;
    if (vm_db_prepare(ctx->db, "DELETE FROM addresses WHERE eni_id = ? AND auto = 1", &given, err) < 0 ||
        vm_db_prepare(ctx->db,
                      "UPDATE addresses SET association_id = '', eni_id = '' WHERE eni_id = ? AND allocation_id != ?",
                      &prev, err) < 0 ||
        vm_db_prepare(ctx->db, "UPDATE addresses SET association_id = ?, eni_id = ? WHERE allocation_id = ?", &st,
                      err) < 0)
        goto fail;
    sqlite3_bind_text(given, 1, e.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(prev, 1, e.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(prev, 2, r.alloc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 1, assoc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r.alloc, -1, SQLITE_STATIC);
    if (sqlite3_step(given) != SQLITE_DONE || sqlite3_step(prev) != SQLITE_DONE || sqlite3_step(st) != SQLITE_DONE) {
        vm_db_error(ctx->db, "associating address", err);
        goto fail;
    }
    if (vm_db_commit(ctx->db, err) < 0)
        return -1;
    if (r.associated && strcmp(r.eni.subnet, e.subnet) != 0)
        net_eip_plumb(ctx, r.ip, r.eni.subnet, false);
    if (had_one)
        net_eip_plumb(ctx, had, e.subnet, false);
    net_eip_plumb(ctx, r.ip, e.subnet, true);
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    vm_node_str(resp, "associationId", NULL, assoc);
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
eip_disassociate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *assoc = vm_params_get(p, "AssociationId"), *ip = vm_params_get(p, "PublicIp");
    bool dry;
    if (vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (!assoc && !ip)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter AssociationId");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      assoc ? EIP_SELECT "AND association_id = ? AND association_id != ''"
                            : EIP_SELECT "AND public_ip = ? AND association_id != ''",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, assoc ? assoc : ip, -1, SQLITE_STATIC);
    eip_row r;
    if (sqlite3_step(st) != SQLITE_ROW)
        return assoc ? vm_error_set(err, VM_ERR_ASSOC_NOT_FOUND, "The association ID '%s' does not exist", assoc)
                     : vm_error_set(err, VM_ERR_ADDRESS_NOT_FOUND, "The address '%s' is not associated", ip);
    if (eip_from_row(ctx, st, &r, err) < 0)
        return -1;
    sqlite3_finalize(TAKE_PTR(st));
    if (dry)
        return vm_error_dry_run(err);
    if (eip_unset(ctx, r.alloc, err) < 0)
        return -1;
    if (r.associated)
        net_eip_plumb(ctx, r.ip, r.eni.subnet, false);
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    return net_render_true(resp);
}

int
eip_release(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    eip_row r;
    bool dry;
    if (eip_find(ctx, p, &r, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (r.associated)
        return vm_error_set(err, VM_ERR_ADDRESS_IN_USE, "Address %s is in use (associated with %s).", r.ip,
                            r.eni.instance[0] ? r.eni.instance : r.eni.id);
    if (dry)
        return vm_error_dry_run(err);
    _cleanup_stmt_ sqlite3_stmt *d = NULL;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_prepare(ctx->db, "DELETE FROM addresses WHERE allocation_id = ? AND eni_id = ''", &d, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    sqlite3_bind_text(d, 1, r.alloc, -1, SQLITE_STATIC);
    if (sqlite3_step(d) != SQLITE_DONE || vm_tags_drop(ctx, r.alloc, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        if (!vm_error_is_set(err))
            vm_db_error(ctx->db, "releasing address", err);
        vm_db_rollback(ctx->db);
        return -1;
    }
    return net_render_true(resp);
}

static const char *
eip_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    (void)buf, (void)len;
    const eip_row *r = obj;
    if (strcmp(name, "allocation-id") == 0)
        return r->alloc;
    if (strcmp(name, "public-ip") == 0)
        return r->ip;
    if (strcmp(name, "domain") == 0)
        return "vpc";
    if (strcmp(name, "network-border-group") == 0)
        return ctx->region;
    if (strcmp(name, "association-id") == 0)
        return r->associated ? r->assoc : "";
    if (strcmp(name, "instance-id") == 0)
        return r->associated ? r->eni.instance : "";
    if (strcmp(name, "network-interface-id") == 0)
        return r->associated ? r->eni.id : "";
    if (strcmp(name, "network-interface-owner-id") == 0)
        return r->associated ? ctx->account_id : "";
    if (strcmp(name, "private-ip-address") == 0)
        return r->associated ? r->eni.ip : "";
    return NULL;
}

int
eip_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ips = NULL, **allocs = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nips, nallocs;
    if (vm_params_list(p, "PublicIp", &ips, &nips, err) < 0 || vm_params_list(p, "AllocationId", &allocs, &nallocs, err) < 0 ||
        vm_filters_parse(p, "DescribeAddresses", &fs, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, EIP_SELECT "ORDER BY created_at, public_ip", &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "addressesSet", "Addresses");
    size_t seen_ips = 0, seen_allocs = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        eip_row r;
        if (eip_from_row(ctx, st, &r, err) < 0)
            return -1;
        bool by_ip = nips && vm_match_any(r.ip, ips), by_alloc = nallocs && vm_match_any(r.alloc, allocs);
        seen_ips += by_ip;
        seen_allocs += by_alloc;
        if ((nips && !by_ip) || (nallocs && !by_alloc))
            continue;
        int m = net_filter_pass(ctx, fs, r.alloc, eip_subject, &r, err);
        if (m < 0)
            return -1;
        if (m && render_eip(ctx, vm_node_item(list), &r, err) < 0)
            return -1;
    }
    if (seen_ips < nips)
        return vm_error_set(err, VM_ERR_ADDRESS_NOT_FOUND, "Address '%s' not found.", ips[0]);
    if (seen_allocs < nallocs)
        return vm_error_set(err, VM_ERR_ALLOCATION_NOT_FOUND, "The allocation ID '%s' does not exist", allocs[0]);
    return 0;
}

int
net_instance_public(vm_ctx *ctx, const char *eni_id, char ip[NET_ADDR_MAX], char *dns, size_t dnslen,
                    char alloc[VM_ID_MAX], char assoc[VM_ID_MAX])
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    ip[0] = '\0';
    if (dns)
        dns[0] = '\0';
    if (vm_db_prepare(ctx->db,
                      "SELECT public_ip, CASE WHEN auto THEN '' ELSE allocation_id END, CASE WHEN auto THEN '' ELSE "
                      "association_id END FROM addresses WHERE eni_id = ?",
                      &st, &ignore) < 0)
        return 0;
    sqlite3_bind_text(st, 1, eni_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    snprintf(ip, NET_ADDR_MAX, "%s", vm_db_text(st, 0));
    if (dns)
        public_dns(ctx, ip, dns, dnslen);
    if (alloc)
        snprintf(alloc, VM_ID_MAX, "%s", vm_db_text(st, 1));
    if (assoc)
        snprintf(assoc, VM_ID_MAX, "%s", vm_db_text(st, 2));
    return 1;
}
