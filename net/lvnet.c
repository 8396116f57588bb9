/* The libvirt side of networking: one transient network per subnet (built from the store, so it
 * can always be rebuilt), its static DHCP entries and DNS names, and the nwfilters that enforce
 * security groups.
 *
 * An interface's filter (vmmgr-eni-…) is, in order of priority:
 *   clean-traffic (libvirt's anti-spoofing of MAC, IP and ARP, with the address given and IP
 *   learning off) → DHCP and DNS to the subnet's gateway → drop whatever comes from or goes to
 *   outside the VPC → the accept rules of each of its groups (vmmgr-sg-…, stateful) → drop.
 * A group's filter is redefined when its rules or the members of a group it names change;
 * libvirt re-applies it to every running interface that uses it. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/xmlw.h"
#include "../vmmgr/core/cmd.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/lock.h"
#include "net_priv.h"

VM_DEFINE_CLEANUP(virNetworkPtr, virNetworkFree)
VM_DEFINE_CLEANUP(virNWFilterPtr, virNWFilterFree)
VM_DEFINE_CLEANUP(xmlXPathContextPtr, xmlXPathFreeContext)
VM_DEFINE_CLEANUP(xmlXPathObjectPtr, xmlXPathFreeObject)

void
net_network_name(const char *subnet_id, char buf[64])
{
    snprintf(buf, 64, "vmmgr-%s", subnet_id);
}

void
net_eni_filter_name(const char *eni_id, char buf[64])
{
    snprintf(buf, 64, "vmmgr-%s", eni_id);
}

void
net_sg_filter_name(const char *sg_id, char buf[64])
{
    snprintf(buf, 64, "vmmgr-%s", sg_id);
}

/* Linux limits interface names to 15 characters: "vm" and 13 of the subnet's hex digits. */
static void
bridge_name(const char *subnet_id, char buf[16])
{
    snprintf(buf, 16, "vm%.13s", subnet_id + strlen("subnet-"));
}

/* ip-172-31-0-12 */
static void
host_label(const char *ip, char buf[32])
{
    snprintf(buf, 32, "ip-%s", ip);
    for (char *c = buf; *c; c++)
        if (*c == '.')
            *c = '-';
}

typedef struct host {
    char mac[18];
    char ip[NET_ADDR_MAX];
    char name[96];
    bool seen;
} host;

typedef struct hosts {
    host *v;
    size_t n;
} hosts;

static int
hosts_push(hosts *h, const char *mac, const char *ip, const char *name, vm_error *err)
{
    host *v = realloc(h->v, (h->n + 1) * sizeof(*v));
    if (!v)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    h->v = v;
    memset(&v[h->n], 0, sizeof(*v));
    snprintf(v[h->n].mac, sizeof(v->mac), "%s", mac);
    snprintf(v[h->n].ip, sizeof(v->ip), "%s", ip);
    snprintf(v[h->n].name, sizeof(v->name), "%s", name);
    h->n++;
    return 0;
}

/* What the subnet's network should hold: DHCP entries of its interfaces and, when the VPC has
 * DNS, the names of every interface in the VPC. */
static int
desired(vm_ctx *ctx, const net_subnet *s, const net_vpc *vpc, hosts *dhcp, hosts *dns, vm_error *err)
{
    char dom[64];
    net_region_domain(ctx, dom, sizeof(dom));
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT e.mac, e.ip, e.subnet_id FROM network_interfaces e JOIN subnets s ON s.id = e.subnet_id "
                      "WHERE s.vpc_id = ? ORDER BY e.created_at, e.id",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, vpc->id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *mac = vm_db_text(st, 0), *ip = vm_db_text(st, 1);
        char label[32], fqdn[96];
        host_label(ip, label);
        snprintf(fqdn, sizeof(fqdn), "%s.%s", label, dom);
        if (strcmp(vm_db_text(st, 2), s->id) == 0 && hosts_push(dhcp, mac, ip, label, err) < 0)
            return -1;
        if (vpc->dns_support && hosts_push(dns, mac, ip, fqdn, err) < 0)
            return -1;
    }
    return 0;
}

static void
add_dhcp_host(xmlNodePtr parent, const host *h)
{
    xmlNodePtr n = vm_xml_elem(parent, "host");
    vm_xml_prop(n, "mac", h->mac);
    vm_xml_prop(n, "ip", h->ip);
    vm_xml_prop(n, "name", h->name);
}

static void
add_dns_host(xmlNodePtr parent, const host *h)
{
    xmlNodePtr n = vm_xml_elem(parent, "host");
    vm_xml_prop(n, "ip", h->ip);
    xmlNewTextChild(n, NULL, BAD_CAST "hostname", BAD_CAST h->name);
}

static char *
network_xml(vm_ctx *ctx, const net_subnet *s, const net_vpc *vpc, const hosts *dhcp, const hosts *dns, vm_error *err)
{
    char name[64], br[16], gw[NET_ADDR_MAX], lo[NET_ADDR_MAX], hi[NET_ADDR_MAX], prefix[8], dom[64];
    net_network_name(s->id, name);
    bridge_name(s->id, br);
    net_addr_format(net_subnet_gateway(&s->cidr), gw);
    net_addr_format(net_subnet_first(&s->cidr), lo);
    net_addr_format(net_subnet_last(&s->cidr), hi);
    snprintf(prefix, sizeof(prefix), "%d", s->cidr.prefix);
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "network");
    xmlDocSetRootElement(doc, root);
    xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
    /* 'open': libvirt adds no firewall rules of its own; the host routes between the subnets of
     * a VPC and each interface's filter keeps other VPCs out */
    vm_xml_prop(vm_xml_elem(root, "forward"), "mode", "open");
    xmlNodePtr b = vm_xml_elem(root, "bridge");
    vm_xml_prop(b, "name", br);
    vm_xml_prop(b, "stp", "off");
    vm_xml_prop(b, "delay", "0");
    xmlNodePtr d = vm_xml_elem(root, "domain");
    vm_xml_prop(d, "name", net_region_domain(ctx, dom, sizeof(dom)));
    vm_xml_prop(d, "localOnly", "yes");
    xmlNodePtr dn = vm_xml_elem(root, "dns");
    vm_xml_prop(dn, "enable", vpc->dns_support ? "yes" : "no");
    for (size_t i = 0; vpc->dns_support && i < dns->n; i++)
        add_dns_host(dn, &dns->v[i]);
    xmlNodePtr ip = vm_xml_elem(root, "ip");
    vm_xml_prop(ip, "address", gw);
    vm_xml_prop(ip, "prefix", prefix);
    xmlNodePtr dh = vm_xml_elem(ip, "dhcp");
    xmlNodePtr r = vm_xml_elem(dh, "range");
    vm_xml_prop(r, "start", lo);
    vm_xml_prop(r, "end", hi);
    for (size_t i = 0; i < dhcp->n; i++)
        add_dhcp_host(dh, &dhcp->v[i]);
    return vm_xml_dump(doc, root, false, err);
}

static int
update(virNetworkPtr net, unsigned int cmd, unsigned int section, const host *h, vm_error *err)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr holder = xmlNewNode(NULL, BAD_CAST "x");
    xmlDocSetRootElement(doc, holder);
    if (section == VIR_NETWORK_SECTION_IP_DHCP_HOST)
        add_dhcp_host(holder, h);
    else
        add_dns_host(holder, h);
    _cleanup_free_ char *xml = vm_xml_dump(doc, holder->children, false, err);
    if (!xml)
        return -1;
    if (virNetworkUpdate(net, cmd, section, -1, xml, VIR_NETWORK_UPDATE_AFFECT_LIVE) < 0)
        return vm_error_from_virt(err, "updating network %s", virNetworkGetName(net));
    return 0;
}

/* Brings a running network's entries to the wanted ones, one update per difference. */
static int
network_converge(virNetworkPtr net, hosts *dhcp, hosts *dns, bool dns_on, vm_error *err)
{
    _cleanup_free_ char *xml = virNetworkGetXMLDesc(net, 0);
    if (!xml)
        return vm_error_from_virt(err, "reading network %s", virNetworkGetName(net));
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "net.xml", NULL, XML_PARSE_NONET);
    _cleanup_(xmlXPathFreeContextp) xmlXPathContextPtr xp = doc ? xmlXPathNewContext(doc) : NULL;
    if (!xp)
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot parse the XML of network %s", virNetworkGetName(net));
    _cleanup_(xmlXPathFreeObjectp) xmlXPathObjectPtr dh =
        xmlXPathEvalExpression(BAD_CAST "/network/ip/dhcp/host", xp);
    _cleanup_(xmlXPathFreeObjectp) xmlXPathObjectPtr ns =
        xmlXPathEvalExpression(BAD_CAST "/network/dns/host", xp);
    for (int i = 0; dh && dh->nodesetval && i < dh->nodesetval->nodeNr; i++) {
        xmlNodePtr n = dh->nodesetval->nodeTab[i];
        _cleanup_free_ char *mac = (char *)xmlGetProp(n, BAD_CAST "mac");
        _cleanup_free_ char *ip = (char *)xmlGetProp(n, BAD_CAST "ip");
        _cleanup_free_ char *name = (char *)xmlGetProp(n, BAD_CAST "name");
        bool want = false;
        for (size_t j = 0; j < dhcp->n; j++)
            if (mac && ip && strcasecmp(dhcp->v[j].mac, mac) == 0 && strcmp(dhcp->v[j].ip, ip) == 0) {
                dhcp->v[j].seen = want = true;
            }
        if (!want) {
            host h = { 0 };
            snprintf(h.mac, sizeof(h.mac), "%s", mac ? mac : "");
            snprintf(h.ip, sizeof(h.ip), "%s", ip ? ip : "");
            snprintf(h.name, sizeof(h.name), "%s", name ? name : "");
            if (update(net, VIR_NETWORK_UPDATE_COMMAND_DELETE, VIR_NETWORK_SECTION_IP_DHCP_HOST, &h, err) < 0)
                return -1;
        }
    }
    for (int i = 0; ns && ns->nodesetval && i < ns->nodesetval->nodeNr; i++) {
        xmlNodePtr n = ns->nodesetval->nodeTab[i];
        _cleanup_free_ char *ip = (char *)xmlGetProp(n, BAD_CAST "ip");
        _cleanup_free_ char *name = NULL;
        for (xmlNodePtr c = n->children; c && !name; c = c->next)
            if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST "hostname") == 0)
                name = (char *)xmlNodeGetContent(c);
        bool want = false;
        for (size_t j = 0; j < dns->n; j++)
            if (ip && name && strcmp(dns->v[j].ip, ip) == 0 && strcmp(dns->v[j].name, name) == 0)
                dns->v[j].seen = want = true;
        if (!want) {
            host h = { 0 };
            snprintf(h.ip, sizeof(h.ip), "%s", ip ? ip : "");
            snprintf(h.name, sizeof(h.name), "%s", name ? name : "");
            if (update(net, VIR_NETWORK_UPDATE_COMMAND_DELETE, VIR_NETWORK_SECTION_DNS_HOST, &h, err) < 0)
                return -1;
        }
    }
    for (size_t j = 0; j < dhcp->n; j++)
        if (!dhcp->v[j].seen &&
            update(net, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, VIR_NETWORK_SECTION_IP_DHCP_HOST, &dhcp->v[j], err) < 0)
            return -1;
    for (size_t j = 0; dns_on && j < dns->n; j++)
        if (!dns->v[j].seen &&
            update(net, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, VIR_NETWORK_SECTION_DNS_HOST, &dns->v[j], err) < 0)
            return -1;
    return 0;
}

/* A VPC's networks and filters are brought to the store's view by one process at a time: two
 * launches converging the same network at once would each add (or drop) the other's entries. */
static int
vpc_lock(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    char dir[4096];
    return vm_lock_take(vm_ctx_path(ctx, dir, sizeof(dir), "locks"), vpc_id, false, err);
}

static int
network_ensure(vm_ctx *ctx, const char *subnet_id, vm_error *err)
{
    net_subnet s;
    net_vpc vpc;
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn || subnet_get(ctx, subnet_id, &s, err) < 0 || vpc_get(ctx, s.vpc_id, &vpc, err) < 0)
        return -1;
    hosts dhcp = { 0 }, dns = { 0 };
    int rc = desired(ctx, &s, &vpc, &dhcp, &dns, err);
    char name[64];
    net_network_name(s.id, name);
    _cleanup_(virNetworkFreep) virNetworkPtr net = rc == 0 ? virNetworkLookupByName(conn, name) : NULL;
    if (rc == 0 && net && virNetworkIsActive(net) == 1) {
        rc = network_converge(net, &dhcp, &dns, vpc.dns_support, err);
    } else if (rc == 0) {
        virResetLastError();
        if (net) /* defined but stopped by someone: start it as it is, then converge */
            rc = virNetworkCreate(net) < 0 ? vm_error_from_virt(err, "starting network %s", name)
                                          : network_converge(net, &dhcp, &dns, vpc.dns_support, err);
        else {
            _cleanup_free_ char *xml = network_xml(ctx, &s, &vpc, &dhcp, &dns, err);
            virNetworkPtr made = xml ? virNetworkCreateXML(conn, xml) : NULL;
            if (!made && xml) {
                char cidr[NET_CIDR_MAX];
                net_cidr_format(&s.cidr, cidr);
                rc = vm_error_from_virt(err, "starting the network of %s (%s)", s.id, cidr);
            } else if (!made)
                rc = -1;
            else
                virNetworkFree(made);
        }
    }
    free(dhcp.v);
    free(dns.v);
    return rc;
}

int
net_network_ensure(vm_ctx *ctx, const char *subnet_id, vm_error *err)
{
    net_subnet s;
    if (subnet_get(ctx, subnet_id, &s, err) < 0)
        return -1;
    int fd = vpc_lock(ctx, s.vpc_id, err);
    if (fd < 0)
        return -1;
    int rc = network_ensure(ctx, subnet_id, err);
    vm_lock_release(fd);
    return rc;
}

int
net_network_destroy(vm_ctx *ctx, const char *subnet_id, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    char name[64];
    net_network_name(subnet_id, name);
    _cleanup_(virNetworkFreep) virNetworkPtr net = virNetworkLookupByName(conn, name);
    if (!net) {
        virResetLastError();
        return 0;
    }
    if (virNetworkIsActive(net) == 1 && virNetworkDestroy(net) < 0)
        return vm_error_from_virt(err, "stopping network %s", name);
    if (virNetworkIsPersistent(net) == 1)
        virNetworkUndefine(net);
    return 0;
}

/* The live process whose pid is in <libvirtd's runtime dir>/network/<file>.pid, 0 when it cannot
 * be known here (a remote libvirt, a stopped network, a stale file). */
static long
network_pid(const vm_ctx *ctx, const char *file)
{
    char rundir[PATH_MAX], pidfile[PATH_MAX + 80], proc[64];
    if (!vm_ctx_libvirt_rundir(ctx, rundir, sizeof(rundir)))
        return 0;
    snprintf(pidfile, sizeof(pidfile), "%s/network/%s.pid", rundir, file);
    _cleanup_fclose_ FILE *f = fopen(pidfile, "re");
    long pid = 0;
    if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 0)
        return 0;
    snprintf(proc, sizeof(proc), "/proc/%ld/ns/net", pid);
    return access(proc, F_OK) == 0 ? pid : 0;
}

/* The pid of the subnet's dnsmasq, whose network namespace holds libvirt's bridges (vmmgr's
 * tests and quickstart run libvirtd in a namespace of its own). */
static long
dnsmasq_pid(const vm_ctx *ctx, const char *subnet_id)
{
    char name[64];
    net_network_name(subnet_id, name);
    return network_pid(ctx, name);
}

/* The pid of the local libvirtd behind ctx->uri: its network driver's pid file. */
static long
libvirtd_pid(const vm_ctx *ctx)
{
    return network_pid(ctx, "driver");
}

int
net_host_block_check(vm_ctx *ctx, const net_cidr *c, vm_error *err)
{
    /* the routes of the namespace libvirtd (so its bridges) lives in: /proc/PID/net/route shows
     * the main table of PID's network namespace; without a local libvirtd, this process's own */
    char path[64], block[NET_CIDR_MAX];
    long pid = libvirtd_pid(ctx);
    if (!pid && !vm_ctx_libvirt_rundir(ctx, path, sizeof(path)))
        return 0; /* another host's libvirtd: its networks are not visible here */
    if (pid)
        snprintf(path, sizeof(path), "/proc/%ld/net/route", pid);
    else
        snprintf(path, sizeof(path), "/proc/self/net/route");
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[256];
    net_cidr_format(c, block);
    while (fgets(line, sizeof(line), f)) {
        char iface[32];
        unsigned dest, gw, flags, refcnt, use, metric, mask;
        if (sscanf(line, "%31s %x %x %x %u %u %u %x", iface, &dest, &gw, &flags, &refcnt, &use, &metric, &mask) != 8)
            continue; /* the heading */
        /* a default route overlaps everything and hides nothing; vmmgr's own bridges are vmmgr's */
        if (mask == 0 || (strncmp(iface, "vm", 2) == 0 && strlen(iface) == 15))
            continue;
        net_cidr r = { .addr = ntohl(dest), .prefix = __builtin_popcount(mask) };
        if (!net_cidr_overlap(&r, c))
            continue;
        char taken[NET_CIDR_MAX];
        net_cidr_format(&r, taken);
        return vm_error_set(err, VM_ERR_VPC_RANGE,
                            "the VPC block '%s' overlaps '%s' of interface '%s' on this host (where libvirtd runs): "
                            "vmmgr's bridges would take those addresses from it. Choose a free block: vmmgr init "
                            "--default-vpc-cidr 10.200.0.0/16 (or VMMGR_DEFAULT_VPC_CIDR)",
                            block, taken, iface);
    }
    return 0;
}

/* Any running subnet of the VPC will do: they all live in libvirtd's namespace. */
static long
vpc_netns_pid(vm_ctx *ctx, const char *vpc_id)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_prepare(ctx->db, "SELECT id FROM subnets WHERE vpc_id = ?", &st, &ignore) < 0)
        return 0;
    sqlite3_bind_text(st, 1, vpc_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        long pid = dnsmasq_pid(ctx, vm_db_text(st, 0));
        if (pid)
            return pid;
    }
    return 0;
}

/* Runs argv (a tool) inside the namespace of process pid. */
static int
run_in_netns(long pid, const char *const *argv, vm_error *err)
{
    char netns[64];
    const char *full[16] = { "nsenter", netns };
    size_t n = 2;
    snprintf(netns, sizeof(netns), "--net=/proc/%ld/ns/net", pid);
    for (; *argv && n < 15; argv++)
        full[n++] = *argv;
    full[n] = NULL;
    vm_cmd_limits lim = { .timeout_sec = 20 };
    return vm_cmd_run(full, &lim, NULL, err);
}

int
net_dhcp_release(vm_ctx *ctx, const char *subnet_id, const char *ip, const char *mac, vm_error *err)
{
    /* dnsmasq keeps a lease after its host entry goes; the next interface given this address would
     * be offered another one.  dhcp_release (dnsmasq-utils) sends the DHCPRELEASE the guest never
     * sent, from inside the namespace dnsmasq runs in.  A remote libvirt or a missing tool: skip. */
    char br[16];
    bridge_name(subnet_id, br);
    long pid = dnsmasq_pid(ctx, subnet_id);
    if (!pid || access("/usr/bin/dhcp_release", X_OK) != 0)
        return 0;
    const char *argv[] = { "dhcp_release", br, ip, mac, NULL };
    return run_in_netns(pid, argv, err);
}

int
net_dns_sync(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM subnets WHERE vpc_id = ?", &st, err) < 0)
        return -1;
    int fd = vpc_lock(ctx, vpc_id, err);
    if (fd < 0)
        return -1;
    int rc = 0;
    sqlite3_bind_text(st, 1, vpc_id, -1, SQLITE_STATIC);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        char id[VM_ID_MAX];
        snprintf(id, sizeof(id), "%s", vm_db_text(st, 0));
        rc = network_ensure(ctx, id, err);
    }
    vm_lock_release(fd);
    return rc;
}

/* --- filters ------------------------------------------------------------------------------------ */

/* Defines (or redefines: libvirt then re-applies it to every interface using it) the filter whose
 * document is doc.  A redefinition must carry the filter's UUID: it is added to the tree. */
static int
filter_define(vm_ctx *ctx, const char *name, xmlDocPtr doc, xmlNodePtr root, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_(virNWFilterFreep) virNWFilterPtr old = virNWFilterLookupByName(conn, name);
    char uuid[VIR_UUID_STRING_BUFLEN];
    if (old && virNWFilterGetUUIDString(old, uuid) == 0) {
        xmlNodePtr u = xmlNewNode(NULL, BAD_CAST "uuid");
        xmlNodeAddContent(u, BAD_CAST uuid);
        if (root->children)
            xmlAddPrevSibling(root->children, u);
        else
            xmlAddChild(root, u);
    } else if (!old)
        virResetLastError();
    _cleanup_free_ char *xml = vm_xml_dump(doc, root, false, err);
    if (!xml)
        return -1;
    virNWFilterPtr f = virNWFilterDefineXML(conn, xml);
    if (!f)
        return vm_error_from_virt(err, "defining a network filter");
    virNWFilterFree(f);
    return 0;
}

static int
filter_undefine(vm_ctx *ctx, const char *name, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_(virNWFilterFreep) virNWFilterPtr f = virNWFilterLookupByName(conn, name);
    if (!f) {
        virResetLastError();
        return 0;
    }
    if (virNWFilterUndefine(f) < 0)
        return vm_error_from_virt(err, "removing network filter %s", name);
    return 0;
}

/* <rule action direction priority><PROTO …/></rule>; peer is the other side's block. */
static void
add_rule_set(xmlNodePtr root, const char *action, const char *dir, const char *prio, const char *proto, bool negate,
             const char *peer_attr, const net_cidr *peer, const char *ipset, long from, long to)
{
    xmlNodePtr r = vm_xml_elem(root, "rule");
    vm_xml_prop(r, "action", action);
    vm_xml_prop(r, "direction", dir);
    vm_xml_prop(r, "priority", prio);
    bool icmp = strcmp(proto, "icmp") == 0;
    xmlNodePtr m = vm_xml_elem(r, strcmp(proto, "-1") == 0 ? "all" : proto);
    char buf[NET_ADDR_MAX], mask[8];
    if (negate)
        vm_xml_prop(m, "match", "no");
    if (ipset) {
        vm_xml_prop(m, "ipset", ipset);
        vm_xml_prop(m, "ipsetflags", strcmp(peer_attr, "src") == 0 ? "src" : "dst");
    } else if (peer) {
        net_addr_format(peer->addr, buf);
        snprintf(mask, sizeof(mask), "%d", peer->prefix);
        char a[16];
        snprintf(a, sizeof(a), "%sipaddr", peer_attr);
        vm_xml_prop(m, a, buf);
        snprintf(a, sizeof(a), "%sipmask", peer_attr);
        vm_xml_prop(m, a, mask);
    }
    char num[24];
    if (icmp) {
        if (from >= 0)
            vm_xml_prop(m, "type", (snprintf(num, sizeof(num), "%ld", from), num));
        if (to >= 0)
            vm_xml_prop(m, "code", (snprintf(num, sizeof(num), "%ld", to), num));
    } else if (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0) {
        if (from >= 0) {
            vm_xml_prop(m, "dstportstart", (snprintf(num, sizeof(num), "%ld", from), num));
            vm_xml_prop(m, "dstportend", (snprintf(num, sizeof(num), "%ld", to), num));
        }
    }
}

static void
add_rule(xmlNodePtr root, const char *action, const char *dir, const char *prio, const char *proto, bool negate,
         const char *peer_attr, const net_cidr *peer, long from, long to)
{
    add_rule_set(root, action, dir, prio, proto, negate, peer_attr, peer, NULL, from, to);
}

/* <filter name=NAME chain='root'>, the root of a new document */
static xmlNodePtr
filter_new(xmlDocPtr *doc, const char *name)
{
    *doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "filter");
    xmlDocSetRootElement(*doc, root);
    vm_xml_prop(root, "name", name);
    vm_xml_prop(root, "chain", "root");
    return root;
}

/* The group's filter document (*doc owned by the caller); its root, or NULL. */
static xmlNodePtr
sg_filter_doc(vm_ctx *ctx, const char *gid, xmlDocPtr *doc, vm_error *err)
{
    char name[64];
    net_sg_filter_name(gid, name);
    xmlNodePtr root = filter_new(doc, name);
    _cleanup_stmt_ sqlite3_stmt *st = NULL, *mem = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT egress, protocol, from_port, to_port, coalesce(cidr, ''), coalesce(source_group, '') "
                      "FROM sg_rules WHERE group_id = ? ORDER BY rowid",
                      &st, err) < 0 ||
        vm_db_prepare(ctx->db,
                      "SELECT e.ip FROM eni_groups g JOIN network_interfaces e ON e.id = g.eni_id "
                      "WHERE g.group_id = ? ORDER BY e.ip",
                      &mem, err) < 0)
        return NULL;
    sqlite3_bind_text(st, 1, gid, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        bool egress = sqlite3_column_int(st, 0);
        const char *proto = vm_db_text(st, 1);
        long from = sqlite3_column_int64(st, 2), to = sqlite3_column_int64(st, 3);
        const char *dir = egress ? "out" : "in", *attr = egress ? "dst" : "src";
        net_cidr c;
        if (*vm_db_text(st, 4)) {
            if (net_cidr_parse(vm_db_text(st, 4), false, &c))
                add_rule(root, "accept", dir, "0", proto, false, attr, &c, from, to);
            continue;
        }
        if (strcmp(proto, "-1") == 0) {
            /* all traffic from a group (the default group's own rule): its members' ipset, so
             * members come and go without redefining this filter */
            char set[64];
            net_sg_filter_name(vm_db_text(st, 5), set);
            add_rule_set(root, "accept", dir, "0", proto, false, attr, NULL, set, from, to);
            continue;
        }
        /* libvirt takes ipset= on <all> only: with a protocol and ports, the members' addresses */
        sqlite3_reset(mem);
        sqlite3_bind_text(mem, 1, vm_db_text(st, 5), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(mem) == SQLITE_ROW)
            if (net_addr_parse(vm_db_text(mem, 0), &c.addr)) {
                c.prefix = 32;
                add_rule(root, "accept", dir, "0", proto, false, attr, &c, from, to);
            }
    }
    return root;
}

static int sg_filters_sync(vm_ctx *ctx, const char *vpc_id, vm_error *err);

int
net_sg_filters_sync(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    int fd = vpc_lock(ctx, vpc_id, err);
    if (fd < 0)
        return -1;
    int rc = sg_filters_sync(ctx, vpc_id, err);
    vm_lock_release(fd);
    return rc;
}

/* Each group's members as an ipset named like its filter, in libvirtd's namespace: built aside
 * and swapped in, so a member never drops out while the set changes.  One `ipset restore` for the
 * whole VPC. */
static int
ipsets_sync(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    long pid = vpc_netns_pid(ctx, vpc_id);
    if (!pid)
        return 0; /* no running subnet: no interface can use a set yet; the next sync makes them */
    _cleanup_stmt_ sqlite3_stmt *gs = NULL, *mem = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM security_groups WHERE vpc_id = ?", &gs, err) < 0 ||
        vm_db_prepare(ctx->db,
                      "SELECT e.ip FROM eni_groups g JOIN network_interfaces e ON e.id = g.eni_id "
                      "WHERE g.group_id = ? ORDER BY e.ip",
                      &mem, err) < 0)
        return -1;
    char path[4200], dir[4096];
    snprintf(path, sizeof(path), "%s/ipset.%ld", vm_ctx_path(ctx, dir, sizeof(dir), "locks"), (long)getpid());
    FILE *f = fopen(path, "we");
    if (!f)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot write '%s'", path);
    sqlite3_bind_text(gs, 1, vpc_id, -1, SQLITE_STATIC);
    while (sqlite3_step(gs) == SQLITE_ROW) {
        char set[64];
        net_sg_filter_name(vm_db_text(gs, 0), set);
        fprintf(f, "create %s hash:ip family inet\ncreate %s-n hash:ip family inet\nflush %s-n\n", set, set, set);
        sqlite3_reset(mem);
        sqlite3_bind_text(mem, 1, vm_db_text(gs, 0), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(mem) == SQLITE_ROW)
            fprintf(f, "add %s-n %s\n", set, vm_db_text(mem, 0));
        fprintf(f, "swap %s-n %s\ndestroy %s-n\n", set, set, set);
    }
    if (fclose(f) != 0) {
        unlink(path);
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot write '%s'", path);
    }
    const char *argv[] = { "ipset", "-exist", "restore", "-file", path, NULL };
    int rc = run_in_netns(pid, argv, err);
    unlink(path);
    return rc;
}

int
net_sg_ipset_destroy(vm_ctx *ctx, const char *vpc_id, const char *sg_id, vm_error *err)
{
    long pid = vpc_netns_pid(ctx, vpc_id);
    if (!pid)
        return 0;
    char set[64];
    net_sg_filter_name(sg_id, set);
    const char *argv[] = { "ipset", "-exist", "destroy", set, NULL };
    return run_in_netns(pid, argv, err);
}

static int
sg_filters_sync(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn || ipsets_sync(ctx, vpc_id, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id, filter_digest FROM security_groups WHERE vpc_id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, vpc_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char gid[VM_ID_MAX], name[64], digest[2 * EVP_MAX_MD_SIZE + 1] = "";
        snprintf(gid, sizeof(gid), "%s", vm_db_text(st, 0));
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNodePtr root = sg_filter_doc(ctx, gid, &doc, err);
        _cleanup_free_ char *xml = root ? vm_xml_dump(doc, root, false, err) : NULL;
        if (!xml)
            return -1;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen;
        EVP_Digest(xml, strlen(xml), md, &mdlen, EVP_sha256(), NULL);
        for (unsigned int i = 0; i < mdlen; i++)
            snprintf(digest + 2 * i, 3, "%02x", md[i]);
        net_sg_filter_name(gid, name);
        _cleanup_(virNWFilterFreep) virNWFilterPtr f = NULL;
        if (strcmp(digest, vm_db_text(st, 1)) == 0 && (f = virNWFilterLookupByName(conn, name)))
            continue; /* unchanged: no needless rebuild of every guest's rules */
        virResetLastError();
        if (filter_define(ctx, name, doc, root, err) < 0)
            return -1;
        _cleanup_stmt_ sqlite3_stmt *up = NULL;
        if (vm_db_prepare(ctx->db, "UPDATE security_groups SET filter_digest = ? WHERE id = ?", &up, err) < 0)
            return -1;
        sqlite3_bind_text(up, 1, digest, -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 2, gid, -1, SQLITE_STATIC);
        sqlite3_step(up);
    }
    return 0;
}

int
net_sg_filter_undefine(vm_ctx *ctx, const char *sg_id, vm_error *err)
{
    char name[64];
    net_sg_filter_name(sg_id, name);
    return filter_undefine(ctx, name, err);
}

int
net_eni_filter_define(vm_ctx *ctx, const char *eni_id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL, *gs = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT s.cidr, v.cidr FROM network_interfaces e JOIN subnets s ON s.id = e.subnet_id "
                      "JOIN vpcs v ON v.id = s.vpc_id WHERE e.id = ?",
                      &st, err) < 0 ||
        vm_db_prepare(ctx->db, "SELECT group_id FROM eni_groups WHERE eni_id = ? ORDER BY group_id", &gs, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, eni_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_ENI_NOT_FOUND, "The network interface '%s' does not exist", eni_id);
    net_cidr sub, vpc, gw = { .prefix = 32 };
    net_cidr_parse(vm_db_text(st, 0), true, &sub);
    net_cidr_parse(vm_db_text(st, 1), true, &vpc);
    gw.addr = net_subnet_gateway(&sub);

    char name[64];
    net_eni_filter_name(eni_id, name);
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
    xmlNodePtr root = filter_new(&doc, name);
    vm_xml_prop(vm_xml_elem(root, "filterref"), "filter", "clean-traffic");
    /* DHCP and the subnet's DNS are not filtered by security groups, as in EC2 */
    add_rule(root, "accept", "out", "-700", "udp", false, NULL, NULL, 67, 67);
    xmlNodePtr r = vm_xml_elem(root, "rule");
    vm_xml_prop(r, "action", "accept");
    vm_xml_prop(r, "direction", "in");
    vm_xml_prop(r, "priority", "-700");
    xmlNodePtr u = vm_xml_elem(r, "udp");
    vm_xml_prop(u, "srcportstart", "67");
    vm_xml_prop(u, "srcportend", "67");
    add_rule(root, "accept", "out", "-700", "udp", false, "dst", &gw, 53, 53);
    add_rule(root, "accept", "out", "-700", "tcp", false, "dst", &gw, 53, 53);
    /* no route leaves the VPC */
    add_rule(root, "drop", "in", "-600", "-1", true, "src", &vpc, -1, -1);
    add_rule(root, "drop", "out", "-600", "-1", true, "dst", &vpc, -1, -1);
    sqlite3_bind_text(gs, 1, eni_id, -1, SQLITE_STATIC);
    while (sqlite3_step(gs) == SQLITE_ROW) {
        char g[64];
        net_sg_filter_name(vm_db_text(gs, 0), g);
        vm_xml_prop(vm_xml_elem(root, "filterref"), "filter", g);
    }
    add_rule(root, "drop", "inout", "900", "-1", false, NULL, NULL, -1, -1);
    return filter_define(ctx, name, doc, root, err);
}

int
net_eni_filter_undefine(vm_ctx *ctx, const char *eni_id, vm_error *err)
{
    char name[64];
    net_eni_filter_name(eni_id, name);
    return filter_undefine(ctx, name, err);
}
