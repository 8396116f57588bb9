/* Storage's mechanism layer: the pool of the state dir and the disks of domains (disk.h). */
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "../vmmgr/core/conn.h"
#include "../vmmgr/core/xmlw.h"

VM_DEFINE_CLEANUP(virStoragePoolPtr, virStoragePoolFree)
VM_DEFINE_CLEANUP(virStorageVolPtr, virStorageVolFree)
VM_DEFINE_CLEANUP(virDomainPtr, virDomainFree)

/* The pool of this state dir, created (transient) when libvirt does not have it. */
static virStoragePoolPtr
pool_get(vm_ctx *ctx, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    EVP_Digest(ctx->state_dir, strlen(ctx->state_dir), md, &mdlen, EVP_sha256(), NULL);
    char name[32], dir[4096];
    snprintf(name, sizeof(name), "vmmgr-%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4], md[5]);
    snprintf(dir, sizeof(dir), "%s/volumes", ctx->state_dir);
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, name);
    if (pool)
        return pool;
    virResetLastError();
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", dir);
        return NULL;
    }
    /* names and paths are ours (a hash, the state dir), but still built as a tree, never pasted */
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "pool");
    xmlDocSetRootElement(doc, root);
    xmlNewProp(root, BAD_CAST "type", BAD_CAST "dir");
    xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
    xmlNewTextChild(xmlNewChild(root, NULL, BAD_CAST "target", NULL), NULL, BAD_CAST "path", BAD_CAST dir);
    xmlChar *xml = NULL;
    int len;
    xmlDocDumpMemory(doc, &xml, &len);
    xmlFreeDoc(doc);
    pool = xml ? virStoragePoolCreateXML(conn, (const char *)xml, 0) : NULL;
    xmlFree(xml);
    if (!pool) {
        /* another process may have made it meanwhile */
        virStoragePoolPtr again = virStoragePoolLookupByName(conn, name);
        if (again)
            return again;
        vm_error_from_virt(err, "creating storage pool '%s'", name);
    }
    return pool;
}

int
disk_pool_create(vm_ctx *ctx, const char *id, long size_gib, vm_error *err)
{
    _cleanup_(virStoragePoolFreep) virStoragePoolPtr pool = pool_get(ctx, err);
    if (!pool)
        return -1;
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "volume");
    xmlDocSetRootElement(doc, root);
    char name[64], cap[32];
    snprintf(name, sizeof(name), "%s.qcow2", id);
    snprintf(cap, sizeof(cap), "%ld", size_gib);
    xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
    xmlNewProp(xmlNewTextChild(root, NULL, BAD_CAST "capacity", BAD_CAST cap), BAD_CAST "unit", BAD_CAST "GiB");
    xmlNodePtr target = xmlNewChild(root, NULL, BAD_CAST "target", NULL);
    xmlNewProp(xmlNewChild(target, NULL, BAD_CAST "format", NULL), BAD_CAST "type", BAD_CAST "qcow2");
    xmlChar *xml = NULL;
    int len;
    xmlDocDumpMemory(doc, &xml, &len);
    xmlFreeDoc(doc);
    _cleanup_(virStorageVolFreep) virStorageVolPtr vol =
        xml ? virStorageVolCreateXML(pool, (const char *)xml, 0) : NULL;
    xmlFree(xml);
    if (!vol)
        return vm_error_from_virt(err, "creating volume '%s'", id);
    return 0;
}

int
disk_pool_ensure(vm_ctx *ctx, vm_error *err)
{
    _cleanup_(virStoragePoolFreep) virStoragePoolPtr pool = pool_get(ctx, err);
    return pool ? 0 : -1;
}

void
disk_pool_refresh(vm_ctx *ctx)
{
    _cleanup_(virStoragePoolFreep) virStoragePoolPtr pool = pool_get(ctx, &(vm_error){ 0 });
    if (pool)
        virStoragePoolRefresh(pool, 0);
    virResetLastError();
}

int
disk_pool_delete(vm_ctx *ctx, const char *id, vm_error *err)
{
    _cleanup_(virStoragePoolFreep) virStoragePoolPtr pool = pool_get(ctx, err);
    char name[64];
    snprintf(name, sizeof(name), "%s.qcow2", id);
    if (pool)
        virStoragePoolRefresh(pool, 0);
    _cleanup_(virStorageVolFreep) virStorageVolPtr vol = pool ? virStorageVolLookupByName(pool, name) : NULL;
    int rc = 0;
    if (vol && virStorageVolDelete(vol, 0) < 0)
        rc = vm_error_from_virt(err, "deleting volume '%s'", id);
    virResetLastError();
    return rc;
}

int
disk_file_copy(const char *src, const char *dst, bool show, vm_error *err)
{
    const char *argv[] = { "qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", show ? "-p" : src,
                           show ? src : dst, show ? dst : NULL, NULL };
    vm_cmd_limits lim = { .timeout_sec = 3600, .show_output = show };
    return vm_cmd_run(argv, &lim, NULL, err);
}

int
disk_file_grow(const char *path, long size_gib, vm_error *err)
{
    char sz[32];
    snprintf(sz, sizeof(sz), "%ldG", size_gib);
    const char *argv[] = { "qemu-img", "resize", "-q", "-f", "qcow2", path, sz, NULL };
    vm_cmd_limits lim = { .timeout_sec = 600 };
    return vm_cmd_run(argv, &lim, NULL, err);
}

/* The domain instance_id: NULL with nothing in *err when there is none, with *err set when libvirt
 * fails or cannot be reached. */
static virDomainPtr
domain(vm_ctx *ctx, const char *instance_id, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    return conn ? vm_domain_find(conn, instance_id, err) : NULL;
}

int
disk_domain_live(vm_ctx *ctx, const char *instance_id, vm_error *err)
{
    _cleanup_(virDomainFreep) virDomainPtr dom = domain(ctx, instance_id, err);
    if (!dom)
        return vm_error_is_set(err) ? -1 : 0;
    int active = virDomainIsActive(dom);
    if (active < 0)
        return vm_error_from_virt(err, "reading the state of '%s'", instance_id);
    return active;
}

/* Whether some process holds a lock on the file at path: QEMU locks the bytes of an image it has
 * open (OFD locks), and keeps them until the block node is gone, which libvirt asks for only
 * after it has taken the disk out of the live definition. */
static bool
file_locked(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

int
disk_where(vm_ctx *ctx, const char *instance_id, const char *path)
{
    vm_error err = { 0 };
    virConnectPtr conn = vm_ctx_conn(ctx, &err);
    if (!conn)
        return -1;
    _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByName(conn, instance_id);
    if (!dom) {
        bool gone = virGetLastErrorCode() == VIR_ERR_NO_DOMAIN;
        virResetLastError();
        return gone ? 0 : -1;
    }
    char needle[4300];
    snprintf(needle, sizeof(needle), "file='%s'", path);
    int where = 0, active = virDomainIsActive(dom);
    _cleanup_free_ char *config = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    _cleanup_free_ char *live = active == 1 ? virDomainGetXMLDesc(dom, 0) : NULL;
    if (active < 0 || !config || (active == 1 && !live)) {
        virResetLastError();
        return -1;
    }
    if (strstr(config, needle))
        where |= DISK_IN_CONFIG;
    if (active == 1 && (strstr(live, needle) || file_locked(path)))
        where |= DISK_IN_LIVE;
    return where;
}

int
disk_alias(virDomainPtr dom, unsigned flags, const char *target, char **ret_alias)
{
    _cleanup_free_ char *xml = virDomainGetXMLDesc(dom, flags);
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "dom.xml", NULL, XML_PARSE_NONET)
                                              : NULL;
    if (!doc)
        return -1;
    xmlXPathContextPtr xp = xmlXPathNewContext(doc);
    xmlXPathObjectPtr res = xp ? xmlXPathEvalExpression(BAD_CAST "/domain/devices/disk", xp) : NULL;
    int found = 0;
    for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr && !found; i++) {
        for (xmlNodePtr c = res->nodesetval->nodeTab[i]->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "target") != 0)
                continue;
            xmlChar *dev = xmlGetProp(c, BAD_CAST "dev");
            found = dev && strcmp((const char *)dev, target) == 0;
            xmlFree(dev);
            break;
        }
        if (!found)
            continue;
        *ret_alias = NULL;
        for (xmlNodePtr c = res->nodesetval->nodeTab[i]->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "alias") == 0) {
                xmlChar *a = xmlGetProp(c, BAD_CAST "name");
                *ret_alias = a ? strdup((const char *)a) : NULL;
                xmlFree(a);
            }
    }
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(xp);
    return found;
}

void
disk_unplug(vm_ctx *ctx, const char *instance_id, const char *target)
{
    _cleanup_free_ char *alias = NULL;
    _cleanup_(virDomainFreep) virDomainPtr dom = domain(ctx, instance_id, &(vm_error){ 0 });
    if (dom && disk_alias(dom, 0, target, &alias) == 1 && alias)
        virDomainDetachDeviceAlias(dom, alias, VIR_DOMAIN_AFFECT_LIVE);
    virResetLastError();
}

int
disk_grow_live(vm_ctx *ctx, const char *instance_id, const char *target, long size_gib, vm_error *err)
{
    _cleanup_(virDomainFreep) virDomainPtr dom = domain(ctx, instance_id, err);
    if (!dom)
        return vm_error_is_set(err) ? -1
                                    : vm_error_set(err, VM_ERR_INTERNAL, "instance '%s' has no domain", instance_id);
    if (virDomainBlockResize(dom, target, (unsigned long long)size_gib << 30, VIR_DOMAIN_BLOCK_RESIZE_BYTES) < 0)
        return vm_error_from_virt(err, "growing '%s' of '%s'", target, instance_id);
    return 0;
}

int
disk_set_limits(vm_ctx *ctx, const char *instance_id, const char *target, long iops, long bytes_per_sec,
                vm_error *err)
{
    _cleanup_(virDomainFreep) virDomainPtr dom = domain(ctx, instance_id, err);
    if (!dom)
        return vm_error_is_set(err) ? -1 : 0;
    virTypedParameter tp[2];
    memset(tp, 0, sizeof(tp));
    snprintf(tp[0].field, sizeof(tp[0].field), "%s", VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC);
    tp[0].type = VIR_TYPED_PARAM_ULLONG;
    tp[0].value.ul = (unsigned long long)iops;
    snprintf(tp[1].field, sizeof(tp[1].field), "%s", VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC);
    tp[1].type = VIR_TYPED_PARAM_ULLONG;
    tp[1].value.ul = (unsigned long long)bytes_per_sec;
    bool live = virDomainIsActive(dom) == 1;
    if (virDomainSetBlockIoTune(dom, target, tp, 2, VIR_DOMAIN_AFFECT_CONFIG | (live ? VIR_DOMAIN_AFFECT_LIVE : 0)) < 0)
        return vm_error_from_virt(err, "setting the I/O limits of '%s' of '%s'", target, instance_id);
    return 0;
}

/* The backup job's XML: only target is copied, to path; every other disk of the domain is left out. */
static char *
backup_xml(virDomainPtr dom, const char *target, const char *path, vm_error *err)
{
    _cleanup_free_ char *dxml = virDomainGetXMLDesc(dom, 0);
    _cleanup_(xmlFreeDocp) xmlDocPtr ddoc =
        dxml ? xmlReadMemory(dxml, (int)strlen(dxml), "dom.xml", NULL, XML_PARSE_NONET) : NULL;
    if (!ddoc) {
        vm_error_from_virt(err, "reading the domain's disks");
        return NULL;
    }
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "domainbackup");
    xmlDocSetRootElement(doc, root);
    xmlNewProp(root, BAD_CAST "mode", BAD_CAST "push");
    xmlNodePtr disks = xmlNewChild(root, NULL, BAD_CAST "disks", NULL);
    xmlXPathContextPtr xp = xmlXPathNewContext(ddoc);
    xmlXPathObjectPtr res = xp ? xmlXPathEvalExpression(BAD_CAST "/domain/devices/disk/target/@dev", xp) : NULL;
    bool found = false;
    for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr; i++) {
        xmlChar *dev = xmlNodeGetContent(res->nodesetval->nodeTab[i]);
        xmlNodePtr d = xmlNewChild(disks, NULL, BAD_CAST "disk", NULL);
        xmlNewProp(d, BAD_CAST "name", dev);
        if (dev && strcmp((const char *)dev, target) == 0) {
            found = true;
            xmlNewProp(d, BAD_CAST "backup", BAD_CAST "yes");
            xmlNewProp(d, BAD_CAST "type", BAD_CAST "file");
            xmlNewProp(xmlNewChild(d, NULL, BAD_CAST "target", NULL), BAD_CAST "file", BAD_CAST path);
            xmlNewProp(xmlNewChild(d, NULL, BAD_CAST "driver", NULL), BAD_CAST "type", BAD_CAST "qcow2");
        } else {
            xmlNewProp(d, BAD_CAST "backup", BAD_CAST "no");
        }
        xmlFree(dev);
    }
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(xp);
    if (!found) {
        vm_error_set(err, VM_ERR_INTERNAL, "disk '%s' is not in the running domain", target);
        return NULL;
    }
    xmlChar *mem = NULL;
    int len;
    xmlDocDumpMemory(doc, &mem, &len);
    char *out = mem ? strdup((const char *)mem) : NULL;
    xmlFree(mem);
    return out;
}

int
disk_backup_live(vm_ctx *ctx, const char *instance_id, const char *target, const char *path,
                 disk_progress_fn progress, void *opaque, vm_error *err)
{
    _cleanup_(virDomainFreep) virDomainPtr dom = domain(ctx, instance_id, err);
    if (!dom)
        return vm_error_is_set(err) ? -1
                                    : vm_error_set(err, VM_ERR_INTERNAL, "instance '%s' has no domain", instance_id);
    _cleanup_free_ char *xml = backup_xml(dom, target, path, err);
    if (!xml)
        return -1;
    if (virDomainBackupBegin(dom, xml, NULL, 0) < 0)
        return vm_error_from_virt(err, "starting the backup of '%s'", target);
    for (int i = 0; i < 36000; i++) {
        virDomainJobInfo info;
        if (virDomainGetJobInfo(dom, &info) < 0)
            return vm_error_from_virt(err, "watching the backup of '%s'", target);
        if (info.type == VIR_DOMAIN_JOB_NONE)
            break;
        int pct = info.dataTotal ? (int)(info.dataProcessed * 100 / info.dataTotal) : 0;
        if (progress)
            progress(opaque, pct > 99 ? 99 : pct);
        usleep(100 * 1000);
    }
    int type;
    virTypedParameterPtr params = NULL;
    int n = 0;
    if (virDomainGetJobStats(dom, &type, &params, &n, VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
        return vm_error_from_virt(err, "reading how the backup of '%s' ended", target);
    virTypedParamsFree(params, n);
    if (type != VIR_DOMAIN_JOB_COMPLETED)
        return vm_error_set(err, VM_ERR_INTERNAL, "the backup of '%s' failed", target);
    return 0;
}
