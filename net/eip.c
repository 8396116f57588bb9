/* Elastic IPs, under Allocate/Associate/Disassociate/Release/DescribeAddresses (whose wire edge is
 * vmmgr/services/ec2/addresses.c).  The addresses come from a
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

/* Elastic IPs: the pool's addresses allocated by AllocateAddress (not the public addresses given
 * at launch, auto = 1, which are their instance's) */
#define EIP_SELECT "SELECT allocation_id, public_ip, association_id, eni_id FROM addresses WHERE auto = 0 "

static int
eip_from_row(vm_ctx *ctx, sqlite3_stmt *st, net_eip *r, vm_error *err)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->alloc, sizeof(r->alloc), "%s", vm_db_text(st, 0));
    snprintf(r->ip, sizeof(r->ip), "%s", vm_db_text(st, 1));
    snprintf(r->assoc, sizeof(r->assoc), "%s", vm_db_text(st, 2));
    if (!*vm_db_text(st, 3))
        return 0;
    eni_row e;
    int has = net_eni_get(ctx, vm_db_text(st, 3), &e, err);
    if (has < 0)
        return -1;
    r->associated = has;
    if (has) {
        snprintf(r->eni.id, sizeof(r->eni.id), "%s", e.id);
        snprintf(r->eni.instance, sizeof(r->eni.instance), "%s", e.instance);
        snprintf(r->eni.subnet, sizeof(r->eni.subnet), "%s", e.subnet);
        snprintf(r->eni.ip, sizeof(r->eni.ip), "%s", e.ip);
    }
    return 0;
}

int
net_eip_find(vm_ctx *ctx, const char *alloc, const char *ip, net_eip *r, vm_error *err)
{
    if (!alloc && !ip)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter AllocationId");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, alloc ? EIP_SELECT "AND allocation_id = ?" : EIP_SELECT "AND public_ip = ?", "t",
                   alloc ? alloc : ip) < 0)
        return -1;
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
    char br[16];
    net_bridge_name(subnet, br);
    /* a routed VPC's address leads to its router, through the transit link */
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT v.id FROM subnets s JOIN vpcs v ON v.id = s.vpc_id WHERE s.id = ? AND v.routed", "t",
                   subnet) == 0 &&
        sqlite3_step(st) == SQLITE_ROW) {
        char host_if[16], host_ip[NET_ADDR_MAX], router_ip[NET_ADDR_MAX];
        net_router_transit(vm_db_text(st, 0), host_if, host_ip, router_ip);
        net_proxy_arp_via(pid, ip, host_if, router_ip, uplink, add);
        return;
    }
    net_proxy_arp(pid, ip, br, uplink, add);
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
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT a.public_ip, e.ip, e.subnet_id, v.routed FROM addresses a JOIN network_interfaces e ON "
                   "e.id = a.eni_id JOIN subnets s ON s.id = e.subnet_id JOIN vpcs v ON v.id = s.vpc_id "
                   "WHERE a.eni_id = ?",
                   "t", eni_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *pub = vm_db_text(st, 0), *priv = vm_db_text(st, 1);
        char br[16];
        net_bridge_name(vm_db_text(st, 2), br);
        /* a routed VPC's NAT is its router's (net/router.c): here only what its groups decide */
        if (sqlite3_column_int(st, 3)) {
            fprintf(f, "%s element inet %s eip_routed { \"%s\" . %s }\n", verb, t, br, priv);
            continue;
        }
        /* a delete names the key only; the private address is keyed by its bridge, as in fw.c */
        if (strcmp(verb, "delete") == 0)
            fprintf(f, "delete element inet %s eip_dnat { %s }\ndelete element inet %s eip_snat { \"%s\" . %s }\n", t,
                    pub, t, br, priv);
        else
            fprintf(f, "add element inet %s eip_dnat { %s : %s }\nadd element inet %s eip_snat { \"%s\" . %s : %s }\n",
                    t, pub, priv, t, br, priv, pub);
        fprintf(f, "%s element inet %s eip_private { \"%s\" . %s }\n", verb, t, br, priv);
    }
    return 0;
}

int
net_vpc_public_addrs(vm_ctx *ctx, const char *vpc_id, net_router_nat **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ net_router_nat *v = NULL;
    size_t n = 0, cap = 0;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT a.public_ip, e.ip FROM addresses a JOIN network_interfaces e ON e.id = a.eni_id "
                   "JOIN subnets s ON s.id = e.subnet_id WHERE s.vpc_id = ? ORDER BY a.public_ip",
                   "t", vpc_id) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_array_grow(&v, n, &cap, sizeof(*v)) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        snprintf(v[n].ip, sizeof(v[n].ip), "%s", vm_db_text(st, 0));
        snprintf(v[n].key, sizeof(v[n].key), "%s", vm_db_text(st, 1));
        n++;
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading addresses", err);
    *ret = TAKE_PTR(v);
    *ret_n = n;
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
        if (vm_db_bind(q, err, "t", ip) < 0)
            return -1;
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
            return 0;
        if (rc != SQLITE_ROW)
            return vm_db_error(ctx->db, "reading addresses", err);
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
    return vm_db_run(ctx->db, err,
                     "INSERT INTO addresses (allocation_id, public_ip, association_id, eni_id, auto, created_at) "
                     "VALUES (?, ?, ?, ?, 1, strftime('%s','now'))",
                     "tttt", alloc, ip, assoc, eni_id) < 0 ? -1 : 0;
}

/* Takes the address off its interface (inside the caller's transaction). */
static int
eip_unset(vm_ctx *ctx, const char *alloc, vm_error *err)
{
    return vm_db_run(ctx->db, err, "UPDATE addresses SET association_id = '', eni_id = '' WHERE allocation_id = ?",
                     "t", alloc) < 0 ? -1 : 0;
}

int
net_eip_release_eni(vm_ctx *ctx, const char *eni_id, const char *subnet, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT allocation_id, public_ip, auto FROM addresses WHERE eni_id = ?", "t",
                   eni_id) < 0)
        return -1;
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
        if (vm_db_run(ctx->db, err, "DELETE FROM addresses WHERE allocation_id = ?", "t", alloc) < 0)
            return -1;
    } else if (eip_unset(ctx, alloc, err) < 0)
        return -1;
    net_eip_plumb(ctx, ip, subnet, false);
    return 0;
}

/* --- actions ---------------------------------------------------------------------------------------- */

void
net_public_dns(vm_ctx *ctx, const char *ip, char *buf, size_t len)
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

int
net_eip_allocate(vm_ctx *ctx, const char *want, const vm_tag *tags, size_t ntags, net_eip *r, vm_error *err)
{
    uint32_t w = 0;
    if (want && !net_addr_parse(want, &w))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter address is invalid.", want);
    memset(r, 0, sizeof(*r));
    if (ctx->dry_run)
        /* the pool is checked as it is now */
        return pool_take(ctx, w, r->ip, err) < 0 ? -1 : vm_error_dry_run(err);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    /* the address asked for, or the lowest free one */
    vm_id_new("eipalloc", r->alloc);
    if (pool_take(ctx, w, r->ip, err) < 0 ||
        vm_db_run(ctx->db, err,
                  "INSERT INTO addresses (allocation_id, public_ip, created_at) VALUES (?, ?, strftime('%s','now'))",
                  "tt", r->alloc, r->ip) < 0 ||
        vm_tags_put(ctx, r->alloc, tags, ntags, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

int
net_eip_associate(vm_ctx *ctx, const net_eip_assoc_req *req, char assoc[VM_ID_MAX], vm_error *err)
{
    net_eip r;
    eni_row e;
    const char *inst = req->instance_id, *eni = req->eni_id, *priv = req->private_ip;
    if (net_eip_find(ctx, req->allocation_id, req->public_ip, &r, err) < 0)
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
    int gws = net_vpc_igw(ctx, e.vpc, NULL, err);
    if (gws < 0)
        return -1;
    if (!gws)
        return vm_error_set(err, VM_ERR_GATEWAY_NOT_ATTACHED, "Network %s is not attached to any internet gateway",
                            e.vpc);
    if (r.associated && !req->allow_reassociation && strcmp(r.eni.id, e.id) != 0)
        return vm_error_set(err, VM_ERR_ALREADY_ASSOCIATED,
                            "resource %s is already associated with associate-id %s", r.alloc, r.assoc);
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    char had[NET_ADDR_MAX];
    vm_id_new("eipassoc", assoc);
    bool had_one = net_instance_public(ctx, e.id, had, NULL, 0, NULL, NULL) && strcmp(had, r.ip) != 0;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    /* one public address per interface: an Elastic IP it had goes back to its allocation,
     * unassociated; a public address from its launch goes back to the pool */
    if (vm_db_run(ctx->db, err, "DELETE FROM addresses WHERE eni_id = ? AND auto = 1", "t", e.id) < 0 ||
        vm_db_run(ctx->db, err,
                  "UPDATE addresses SET association_id = '', eni_id = '' WHERE eni_id = ? AND allocation_id != ?", "tt",
                  e.id, r.alloc) < 0 ||
        vm_db_run(ctx->db, err, "UPDATE addresses SET association_id = ?, eni_id = ? WHERE allocation_id = ?", "ttt",
                  assoc, e.id, r.alloc) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    if (r.associated && strcmp(r.eni.subnet, e.subnet) != 0)
        net_eip_plumb(ctx, r.ip, r.eni.subnet, false);
    if (had_one)
        net_eip_plumb(ctx, had, e.subnet, false);
    net_eip_plumb(ctx, r.ip, e.subnet, true);
    net_paths_sync(ctx);
    return 0;
}

int
net_eip_disassociate(vm_ctx *ctx, const char *assoc, const char *ip, vm_error *err)
{
    if (!assoc && !ip)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter AssociationId");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   assoc ? EIP_SELECT "AND association_id = ? AND association_id != ''"
                         : EIP_SELECT "AND public_ip = ? AND association_id != ''",
                   "t", assoc ? assoc : ip) < 0)
        return -1;
    net_eip r;
    if (sqlite3_step(st) != SQLITE_ROW)
        return assoc ? vm_error_set(err, VM_ERR_ASSOC_NOT_FOUND, "The association ID '%s' does not exist", assoc)
                     : vm_error_set(err, VM_ERR_ADDRESS_NOT_FOUND, "The address '%s' is not associated", ip);
    if (eip_from_row(ctx, st, &r, err) < 0)
        return -1;
    sqlite3_finalize(TAKE_PTR(st));
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    if (eip_unset(ctx, r.alloc, err) < 0)
        return -1;
    if (r.associated)
        net_eip_plumb(ctx, r.ip, r.eni.subnet, false);
    net_paths_sync(ctx);
    return 0;
}

int
net_eip_release(vm_ctx *ctx, const char *alloc, const char *ip, vm_error *err)
{
    net_eip r;
    if (net_eip_find(ctx, alloc, ip, &r, err) < 0)
        return -1;
    if (r.associated)
        return vm_error_set(err, VM_ERR_ADDRESS_IN_USE, "Address %s is in use (associated with %s).", r.ip,
                            r.eni.instance[0] ? r.eni.instance : r.eni.id);
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_run(ctx->db, err, "DELETE FROM addresses WHERE allocation_id = ? AND eni_id = ''", "t", r.alloc) < 0 ||
        vm_tags_drop(ctx, r.alloc, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

int
net_eip_list(vm_ctx *ctx, net_eip **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ net_eip *v = NULL;
    size_t n = 0, cap = 0;
    if (vm_db_stmt(ctx->db, &st, err, EIP_SELECT "ORDER BY created_at, public_ip", "") < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_array_grow(&v, n, &cap, sizeof(*v)) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        if (eip_from_row(ctx, st, &v[n++], err) < 0)
            return -1;
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading addresses", err);
    *ret = TAKE_PTR(v);
    *ret_n = n;
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
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT public_ip, CASE WHEN auto THEN '' ELSE allocation_id END, CASE WHEN auto THEN '' ELSE "
                   "association_id END FROM addresses WHERE eni_id = ?",
                   "t", eni_id) < 0)
        return 0;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    snprintf(ip, NET_ADDR_MAX, "%s", vm_db_text(st, 0));
    if (dns)
        net_public_dns(ctx, ip, dns, dnslen);
    if (alloc)
        snprintf(alloc, VM_ID_MAX, "%s", vm_db_text(st, 1));
    if (assoc)
        snprintf(assoc, VM_ID_MAX, "%s", vm_db_text(st, 2));
    return 1;
}
