/* The libvirt side of networking: one transient network per subnet (built from the store, so it
 * can always be rebuilt), its static DHCP entries and DNS names.  Security groups are enforced by
 * nftables (fw.c), in the network namespace found here. */
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
void
net_bridge_name(const char *subnet_id, char buf[16])
{
    snprintf(buf, 16, "vm%.13s", subnet_id + strlen("subnet-"));
}
#define bridge_name net_bridge_name

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
    _cleanup_free_ net_vpc_addr *addrs = NULL;
    size_t n = 0;
    if (net_vpc_addrs(ctx, vpc->id, &addrs, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *mac = addrs[i].mac, *ip = addrs[i].ip;
        char label[32], fqdn[96];
        host_label(ip, label);
        /* a service's interface (a load balancer's) answers to the service's name instead */
        if (*addrs[i].dns_name)
            snprintf(fqdn, sizeof(fqdn), "%s", addrs[i].dns_name);
        else
            snprintf(fqdn, sizeof(fqdn), "%s.%s", label, dom);
        if (strcmp(addrs[i].subnet_id, s->id) == 0 && hosts_push(dhcp, mac, ip, label, err) < 0)
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

/* A DNS host; without its name for a delete: libvirt deletes the record whose address or any name
 * matches, and a load balancer's name is on a record per interface ("multiple matching DNS HOST
 * records"), while each address has one record */
static void
add_dns_host(xmlNodePtr parent, const host *h, bool with_name)
{
    xmlNodePtr n = vm_xml_elem(parent, "host");
    vm_xml_prop(n, "ip", h->ip);
    if (with_name)
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
     * a VPC and each interface's filter keeps other VPCs out.  A routed VPC's subnet is a bare
     * bridge (no forward, no address: isolated), its router's port on it (net/router.c). */
    if (!vpc->routed)
        vm_xml_prop(vm_xml_elem(root, "forward"), "mode", "open");
    xmlNodePtr b = vm_xml_elem(root, "bridge");
    vm_xml_prop(b, "name", br);
    vm_xml_prop(b, "stp", "off");
    vm_xml_prop(b, "delay", "0");
    if (vpc->routed)
        return vm_xml_dump(doc, root, false, err);
    xmlNodePtr d = vm_xml_elem(root, "domain");
    vm_xml_prop(d, "name", net_region_domain(ctx, dom, sizeof(dom)));
    vm_xml_prop(d, "localOnly", "yes");
    xmlNodePtr dn = vm_xml_elem(root, "dns");
    vm_xml_prop(dn, "enable", vpc->dns_support ? "yes" : "no");
    for (size_t i = 0; vpc->dns_support && i < dns->n; i++)
        add_dns_host(dn, &dns->v[i], true);
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
        add_dns_host(holder, h, cmd != VIR_NETWORK_UPDATE_COMMAND_DELETE);
    _cleanup_free_ char *xml = vm_xml_dump(doc, holder->children, false, err);
    if (!xml)
        return -1;
    /* the name first: any libvirt call (virNetworkGetName too) resets the error it would report */
    const char *name = virNetworkGetName(net);
    if (virNetworkUpdate(net, cmd, section, -1, xml, VIR_NETWORK_UPDATE_AFFECT_LIVE) < 0)
        return vm_error_from_virt(err, "updating network %s", name);
    return 0;
}

/* Brings a running network's entries to the wanted ones, one update per difference. */
static int
network_converge(virNetworkPtr net, hosts *dhcp, hosts *dns, bool dns_on, vm_error *err)
{
    const char *name = virNetworkGetName(net);
    _cleanup_free_ char *xml = virNetworkGetXMLDesc(net, 0);
    if (!xml)
        return vm_error_from_virt(err, "reading network %s", name);
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

typedef struct router_nats {
    const net_router *r;
    net_router_nat *v;
    size_t n, cap;
} router_nats;

/* A route of one of the router's subnets to a NAT gateway: its source NAT, keyed by the port. */
static int
router_nat_route(const char *subnet_id, const char *dest, const char *nat_ip, void *opaque)
{
    router_nats *nc = opaque;
    bool mine = false;
    for (size_t i = 0; i < nc->r->nports && !mine; i++)
        mine = strcmp(nc->r->ports[i].subnet, subnet_id) == 0;
    if (!mine || !*nat_ip)
        return 0;
    if (vm_array_grow(&nc->v, nc->n, &nc->cap, sizeof(*nc->v)) < 0)
        return -1;
    char br_end[16], r_end[16];
    net_router_port_names(subnet_id, br_end, r_end);
    snprintf(nc->v[nc->n].key, sizeof(nc->v[nc->n].key), "\"%s\" . %s", r_end, dest);
    snprintf(nc->v[nc->n].ip, sizeof(nc->v[nc->n].ip), "%s", nat_ip);
    nc->n++;
    return 0;
}

/* A routed VPC's router from the store: a port per subnet, DHCP entries of every interface (each
 * answered on its own subnet's port), the VPC's names. */
static int
router_sync(vm_ctx *ctx, const net_vpc *vpc, bool hosts_only, vm_error *err)
{
    long pid = net_libvirtd_pid(ctx);
    if (!pid)
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                            "the VPC %s overlaps another: its router needs the libvirtd of "
                            "this host (qemu:///system or a local socket)",
                            vpc->id);
    _cleanup_free_ net_subnet *subs = NULL;
    _cleanup_free_ net_router_port *ports = NULL;
    _cleanup_free_ net_vpc_addr *addrs = NULL;
    size_t nsubs = 0, naddrs = 0;
    if (net_subnet_list(ctx, &subs, &nsubs, err) < 0 || net_vpc_addrs(ctx, vpc->id, &addrs, &naddrs, err) < 0)
        return -1;
    net_router r = { .dns = vpc->dns_support, .hosts_only = hosts_only };
    snprintf(r.vpc, sizeof(r.vpc), "%s", vpc->id);
    net_region_domain(ctx, r.domain, sizeof(r.domain));
    if (nsubs && !(ports = calloc(nsubs, sizeof(*ports))))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < nsubs; i++) {
        if (strcmp(subs[i].vpc_id, vpc->id) != 0)
            continue;
        net_router_port *p = &ports[r.nports++];
        snprintf(p->subnet, sizeof(p->subnet), "%s", subs[i].id);
        bridge_name(subs[i].id, p->bridge);
        net_addr_format(net_subnet_gateway(&subs[i].cidr), p->gw);
        net_addr_format(subs[i].cidr.addr, p->network);
        net_addr_format(subs[i].cidr.prefix ? 0xffffffffu << (32 - subs[i].cidr.prefix) : 0, p->netmask);
        p->prefix = subs[i].cidr.prefix;
    }
    r.ports = ports;
    if (!r.nports) { /* no subnet: no router */
        net_router_remove(ctx, vpc->id);
        return 0;
    }
    _cleanup_free_ char *dh = NULL, *dn = NULL;
    size_t dhl = 0, dnl = 0;
    FILE *fh = open_memstream(&dh, &dhl), *fn = open_memstream(&dn, &dnl);
    for (size_t i = 0; fh && fn && i < naddrs; i++) {
        char label[32];
        host_label(addrs[i].ip, label);
        fprintf(fh, "%s,%s,%s\n", addrs[i].mac, addrs[i].ip, label);
        if (*addrs[i].dns_name)
            fprintf(fn, "%s %s\n", addrs[i].ip, addrs[i].dns_name);
        else
            fprintf(fn, "%s %s.%s %s\n", addrs[i].ip, label, r.domain, label);
    }
    if (fh)
        fclose(fh);
    if (fn)
        fclose(fn);
    if (!dh || !dn)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    r.dhcp_hosts = dh;
    r.dns_hosts = dn;
    net_cidr_format(&vpc->cidr, r.block);
    _cleanup_free_ net_router_nat *eips = NULL;
    router_nats nc = { .r = &r };
    if (net_vpc_public_addrs(ctx, vpc->id, &eips, &r.neips, err) < 0 ||
        net_rtb_public_routes(ctx, router_nat_route, &nc, err) < 0) {
        free(nc.v);
        return -1;
    }
    r.eips = eips;
    r.nats = nc.v;
    r.nnats = nc.n;
    int rc = net_router_apply(ctx, pid, &r, err);
    free(nc.v);
    return rc;
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
    bool made = false;
    if (rc == 0 && net && virNetworkIsActive(net) == 1) {
        if (!vpc.routed)
            rc = network_converge(net, &dhcp, &dns, vpc.dns_support, err);
    } else if (rc == 0) {
        virResetLastError();
        if (net) /* defined but stopped by someone: start it as it is, then converge */
            rc = virNetworkCreate(net) < 0 ? vm_error_from_virt(err, "starting network %s", name)
                 : vpc.routed              ? 0
                                           : network_converge(net, &dhcp, &dns, vpc.dns_support, err);
        else {
            _cleanup_free_ char *xml = network_xml(ctx, &s, &vpc, &dhcp, &dns, err);
            virNetworkPtr made = xml ? virNetworkCreateXML(conn, xml) : NULL;
            /* dnsmasq lists the namespace's interfaces at start and exits ("failed to find list of
             * interfaces: No such device") when one vanishes meanwhile (a guest's tap, a veth
             * going): a start that failed so is tried again */
            for (int retry = 0; !made && xml && retry < 3; retry++) {
                virErrorPtr e = virGetLastError();
                if (!e || !e->message || !strstr(e->message, "failed to find list of interfaces"))
                    break;
                usleep(200 * 1000);
                made = virNetworkCreateXML(conn, xml);
            }
            if (!made && xml) {
                char cidr[NET_CIDR_MAX];
                net_cidr_format(&s.cidr, cidr);
                rc = vm_error_from_virt(err, "starting the network of %s (%s)", s.id, cidr);
            } else if (!made)
                rc = -1;
            else
                virNetworkFree(made);
        }
        made = rc == 0;
    }
    free(dhcp.v);
    free(dns.v);
    /* a routed VPC: its router's port on the bridge, its DHCP and DNS; a new bridge also changes
     * the firewall (its members once per bridge of their VPC, the VPC's conntrack zone) */
    if (rc == 0 && vpc.routed)
        rc = router_sync(ctx, &vpc, false, err) < 0 || (made && net_fw_sync(ctx, err) < 0) ? -1 : 0;
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
    long pid = net_libvirtd_pid(ctx);
    if (pid) /* a routed VPC's subnet: its router's port (none on another subnet: a no-op) */
        net_router_port_remove(pid, subnet_id);
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
    long pid = vm_pid_file_read(pidfile);
    if (!pid)
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
long
net_libvirtd_pid(const vm_ctx *ctx)
{
    return network_pid(ctx, "driver");
}

/* Whether a route of the namespace libvirtd (so its bridges) lives in overlaps c, its block and
 * interface in taken and iface when they are given.  With them, vmmgr's own bridges are skipped
 * (init's check of the default VPC's block); without, they count (another store's VPCs). */
bool
net_host_block_taken(vm_ctx *ctx, const net_cidr *c, char taken[NET_CIDR_MAX], char iface[32])
{
    /* /proc/PID/net/route shows the main table of PID's network namespace; without a local
     * libvirtd, this process's own */
    char path[64];
    long pid = net_libvirtd_pid(ctx);
    if (!pid && !vm_ctx_libvirt_rundir(ctx, path, sizeof(path)))
        return false; /* another host's libvirtd: its networks are not visible here */
    if (pid)
        snprintf(path, sizeof(path), "/proc/%ld/net/route", pid);
    else
        snprintf(path, sizeof(path), "/proc/self/net/route");
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return false;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        char name[32];
        unsigned dest, gw, flags, refcnt, use, metric, mask;
        if (sscanf(line, "%31s %x %x %x %u %u %u %x", name, &dest, &gw, &flags, &refcnt, &use, &metric, &mask) != 8)
            continue; /* the heading */
        /* a default route overlaps everything and hides nothing */
        if (mask == 0 || (taken && strncmp(name, "vm", 2) == 0 && strlen(name) == 15))
            continue;
        net_cidr r = { .addr = ntohl(dest), .prefix = __builtin_popcount(mask) };
        if (!net_cidr_overlap(&r, c))
            continue;
        if (taken) {
            net_cidr_format(&r, taken);
            snprintf(iface, 32, "%s", name);
        }
        return true;
    }
    return false;
}

int
net_host_block_check(vm_ctx *ctx, const net_cidr *c, vm_error *err)
{
    char block[NET_CIDR_MAX], taken[NET_CIDR_MAX], iface[32];
    if (!net_host_block_taken(ctx, c, taken, iface))
        return 0;
    net_cidr_format(c, block);
    return vm_error_set(err, VM_ERR_VPC_RANGE,
                        "the VPC block '%s' overlaps '%s' of interface '%s' on this host (where libvirtd runs): "
                        "vmmgr's bridges would take those addresses from it. Choose a free block: vmmgr init "
                        "--default-vpc-cidr 10.200.0.0/16 (or VMMGR_DEFAULT_VPC_CIDR)",
                        block, taken, iface);
}

/* Runs argv (a tool) inside the namespace of process pid. */
int
net_run_in_netns(long pid, const char *const *argv, vm_error *err)
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

void
net_proxy_arp(long pid, const char *ip, const char *bridge, const char *uplink, bool add)
{
    net_proxy_arp_via(pid, ip, bridge, NULL, uplink, add);
}

void
net_proxy_arp_via(long pid, const char *ip, const char *dev, const char *via, const char *uplink, bool add)
{
    char dst[NET_CIDR_MAX];
    snprintf(dst, sizeof(dst), "%s/32", ip);
    vm_error ignore = { 0 };
    const char *route[] = { "ip", "route", add ? "replace" : "del", dst, "dev", dev, via ? "via" : NULL, via, NULL };
    const char *neigh[] = { "ip", "neigh", add ? "replace" : "del", "proxy", ip, "dev", uplink, NULL };
    net_run_in_netns(pid, route, &ignore);
    ignore = (vm_error){ 0 };
    net_run_in_netns(pid, neigh, &ignore);
}

int
net_dhcp_release(vm_ctx *ctx, const char *subnet_id, const char *ip, const char *mac, vm_error *err)
{
    /* dnsmasq keeps a lease after its host entry goes; the next interface given this address would
     * be offered another one.  dhcp_release (dnsmasq-utils) sends the DHCPRELEASE the guest never
     * sent, from inside the namespace dnsmasq runs in.  A remote libvirt or a missing tool: skip. */
    net_subnet s;
    net_vpc vpc;
    vm_error ignore = {0};
    if (subnet_get(ctx, subnet_id, &s, &ignore) == 0 && vpc_get(ctx, s.vpc_id, &vpc, &ignore) == 0 && vpc.routed)
        return net_router_release(ctx, vpc.id, subnet_id, ip, mac, err);
    char br[16];
    bridge_name(subnet_id, br);
    long pid = dnsmasq_pid(ctx, subnet_id);
    if (!pid || access("/usr/bin/dhcp_release", X_OK) != 0)
        return 0;
    const char *argv[] = { "dhcp_release", br, ip, mac, NULL };
    return net_run_in_netns(pid, argv, err);
}

int
net_dns_eni(vm_ctx *ctx, const char *vpc_id, const char *subnet_id, const char *mac, const char *ip, bool add,
            vm_error *err)
{
    net_vpc vpc;
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn || vpc_get(ctx, vpc_id, &vpc, err) < 0)
        return -1;
    char dom[64];
    net_region_domain(ctx, dom, sizeof(dom));
    host dh = { 0 }, dn = { 0 };
    snprintf(dh.mac, sizeof(dh.mac), "%s", mac ? mac : "");
    snprintf(dh.ip, sizeof(dh.ip), "%s", ip ? ip : "");
    char label[32];
    host_label(dh.ip, label);
    snprintf(dh.name, sizeof(dh.name), "%s", label);
    snprintf(dn.ip, sizeof(dn.ip), "%s", ip);
    snprintf(dn.name, sizeof(dn.name), "%s.%s", label, dom);
    unsigned int cmd = add ? VIR_NETWORK_UPDATE_COMMAND_ADD_LAST : VIR_NETWORK_UPDATE_COMMAND_DELETE;
    int fd = vpc_lock(ctx, vpc_id, err);
    if (fd < 0)
        return -1;
    if (vpc.routed) { /* its router's hosts files, from the store */
        int rc = router_sync(ctx, &vpc, true, err);
        vm_lock_release(fd);
        return rc;
    }
    _cleanup_free_ net_subnet *subs = NULL;
    size_t nsubs = 0;
    int rc = net_subnet_list(ctx, &subs, &nsubs, err);
    for (size_t i = 0; rc == 0 && i < nsubs; i++) {
        if (strcmp(subs[i].vpc_id, vpc_id) != 0)
            continue;
        const char *id = subs[i].id;
        char name[64];
        net_network_name(id, name);
        virNetworkPtr net = virNetworkLookupByName(conn, name);
        /* no interface: every network converged from the store (net_dns_sync) */
        bool done = subnet_id && net && virNetworkIsActive(net) == 1;
        vm_error ignore = { 0 };
        if (done && strcmp(id, subnet_id) == 0)
            done = update(net, cmd, VIR_NETWORK_SECTION_IP_DHCP_HOST, &dh, &ignore) == 0;
        if (done && vpc.dns_support)
            done = update(net, cmd, VIR_NETWORK_SECTION_DNS_HOST, &dn, &ignore) == 0;
        if (net)
            virNetworkFree(net);
        if (!done) { /* not running, or an entry already there (or gone): from the store instead */
            virResetLastError();
            rc = network_ensure(ctx, id, err);
        }
    }
    vm_lock_release(fd);
    return rc;
}

/* Every routed VPC's router from the store (dead ones only: a cheap check for each reconcile).  The
 * number of routers it made again, or -1. */
static int
routers_sync(vm_ctx *ctx, bool dead_only, vm_error *err)
{
    _cleanup_free_ net_vpc *vpcs = NULL;
    size_t nv = 0;
    int made = 0;
    if (net_vpc_list(ctx, &vpcs, &nv, err) < 0)
        return -1;
    for (size_t i = 0; i < nv; i++) {
        if (!vpcs[i].routed || (dead_only && net_router_alive(ctx, vpcs[i].id)))
            continue;
        int fd = vpc_lock(ctx, vpcs[i].id, err);
        if (fd < 0)
            return -1;
        int rc = router_sync(ctx, &vpcs[i], false, err);
        vm_lock_release(fd);
        if (rc < 0)
            return -1;
        made++;
    }
    return made;
}

void
net_paths_sync(vm_ctx *ctx)
{
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    ignore = (vm_error){ 0 };
    routers_sync(ctx, false, &ignore);
}

int
net_reconcile(vm_ctx *ctx, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_free_ net_subnet *subs = NULL;
    size_t n = 0;
    if (net_subnet_list(ctx, &subs, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char name[64];
        net_network_name(subs[i].id, name);
        virNetworkPtr net = virNetworkLookupByName(conn, name);
        int active = net ? virNetworkIsActive(net) : 0;
        if (net)
            virNetworkFree(net);
        else
            virResetLastError();
        if (active == 1)
            continue;
        /* made again (a host reboot) */
        if (net_network_ensure(ctx, subs[i].id, err) < 0)
            return -1;
    }
    /* routed VPCs' routers: their namespace, ports and dnsmasq (killed, or gone with a reboot).  A
     * namespace made again has a new transit link, and the host's routes of the VPC's Elastic IPs
     * went with the old one */
    int made = routers_sync(ctx, true, err);
    if (made < 0)
        return -1;
    if (made > 0)
        net_eip_plumb_all(ctx);
    /* the firewall too: gone with a reboot or an `nft flush ruleset` */
    net_legacy_filters_remove(ctx);
    return net_fw_ensure(ctx, err);
}

int
net_dns_sync(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    return net_dns_eni(ctx, vpc_id, NULL, NULL, NULL, false, err);
}

/* --- what the nwfilter versions left ------------------------------------------------------------ */

/* vmmgr's nwfilters (vmmgr-eni-…, vmmgr-sg-…) and the groups' ipsets: an upgrade removes them.  A
 * filter still used by a guest started by the older vmmgr stays until that guest is gone. */
void
net_legacy_filters_remove(vm_ctx *ctx)
{
    /* once per store: after a pass that left none, no command asks libvirt again */
    _cleanup_free_ char *done = vm_config_get(ctx, "legacy_filters_removed");
    if (done)
        return;
    vm_error ignore = { 0 };
    virConnectPtr conn = vm_ctx_conn(ctx, &ignore);
    virNWFilterPtr *fs = NULL;
    int n = conn ? virConnectListAllNWFilters(conn, &fs, 0) : -1;
    if (n < 0) {
        virResetLastError();
        return;
    }
    long pid = net_libvirtd_pid(ctx);
    bool left = false;
    for (int i = 0; i < n; i++) {
        const char *name = virNWFilterGetName(fs[i]);
        if (name && strncmp(name, "vmmgr-", 6) == 0) {
            if (virNWFilterUndefine(fs[i]) < 0) {
                virResetLastError();
                left = true;
            } else if (pid && strncmp(name, "vmmgr-sg-", 9) == 0) {
                const char *argv[] = { "ipset", "-exist", "destroy", name, NULL };
                net_run_in_netns(pid, argv, &ignore);
            }
        }
        virNWFilterFree(fs[i]);
    }
    free(fs);
    if (!left)
        vm_config_set(ctx, "legacy_filters_removed", "1", &ignore);
}
