/* Reconcile: the store says what the user asked for, libvirt what exists and runs.  Run at every
 * start of the CLI (and by describe), it repairs what drifted apart:
 *   - a launch interrupted at any step rolls forward (or, if that fails, is undone: terminated);
 *   - a terminate interrupted in shutting-down completes;
 *   - a guest that stopped behind vmmgr's back is reported stopped, never restarted; one started
 *     behind its back is reported running;
 *   - a domain undefined behind vmmgr's back is defined again from the record (stopped);
 *   - a stop whose grace period ran out is forced;
 *   - a domain carrying this state dir's metadata but no record is adopted;
 *   - a directory under instances/ with no record is removed;
 *   - terminated instances are forgotten after an hour.
 * Instances locked by another process (an operation in progress) are left alone. */
#include <dirent.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../images/catalog.h"
#include "../core/cleanup.h"
#include "../core/lock.h"
#include "../core/tags.h"
#include "../../storage/snapshot.h"
#include "../../storage/volume.h"
#include "domxml.h"
#include "instance.h"
#include "../../net/net.h"
#include "types.h"
#include "../core/xmlw.h"


typedef struct dom_entry {
    virDomainPtr d;
    const char *name;
    bool active;
    bool claimed; /* matched by an instance record */
} dom_entry;

static int
cmp_dom(const void *a, const void *b)
{
    return strcmp(((const dom_entry *)a)->name, ((const dom_entry *)b)->name);
}

/* doms is sorted by name */
static dom_entry *
find_dom(dom_entry *doms, int n, const char *name)
{
    dom_entry key = { .name = name };
    return bsearch(&key, doms, (size_t)n, sizeof(dom_entry), cmp_dom);
}

static bool
file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The domain is gone but the record is not: define it again from the record, stopped. */
static int
redefine(vm_ctx *ctx, const inst_obj *in, vm_error *err)
{
    if (!file_exists(in->disk_path))
        return inst_set_state(ctx, in->id, INST_TERMINATED, "Server.InternalError",
                              "Server.InternalError: the domain and its disk disappeared", 0, err);
    if (inst_define(ctx, in, err) < 0)
        return -1;
    return inst_set_state(ctx, in->id, INST_STOPPED, "Server.InternalError",
                          "Server.InternalError: the domain disappeared and was defined again from the store", 0, err);
}

/* The guest powered itself off: stopped, or terminated when its shutdown behaviour says so. */
static int
guest_powered_off(vm_ctx *ctx, const inst_obj *in, vm_error *err)
{
    const char *code = "Client.InstanceInitiatedShutdown";
    const char *why = "Client.InstanceInitiatedShutdown: Instance initiated shutdown";
    if (strcmp(in->shutdown_behavior, "terminate") != 0)
        return inst_set_state(ctx, in->id, INST_STOPPED, code, why, 0, err);
    if (inst_set_state(ctx, in->id, INST_SHUTTING_DOWN, code, why, 0, err) < 0 || inst_teardown(ctx, in, false, err) < 0)
        return -1;
    return inst_set_state(ctx, in->id, INST_TERMINATED, code, why, 0, err);
}

static int
repair_one(vm_ctx *ctx, inst_obj *in, dom_entry *dom, vm_error *err)
{
    switch (in->state) {
    case INST_PENDING:
        if (in->launch_step < INST_STEP_STARTED) {
            /* a launch that its process did not finish: roll it forward */
            if (inst_launch_resume(ctx, in, err) == 0)
                return 0;
            vm_error cause = *err, ignore = { 0 };
            inst_teardown(ctx, in, true, &ignore);
            return inst_set_state(ctx, in->id, INST_TERMINATED, "Server.InternalError", cause.msg, 0, &ignore);
        }
        if (!dom)
            return redefine(ctx, in, err);
        return dom->active ? inst_set_state(ctx, in->id, INST_RUNNING, "", "", 0, err)
                           : guest_powered_off(ctx, in, err);
    case INST_RUNNING:
        if (!dom)
            return redefine(ctx, in, err);
        if (!dom->active)
            return guest_powered_off(ctx, in, err);
        return 0;
    case INST_STOPPING:
        if (!dom)
            return redefine(ctx, in, err);
        if (dom->active && time(NULL) < in->deadline)
            return 0;
        if (dom->active && inst_domain_power_off(ctx, in->id, err) < 0)
            return -1;
        return inst_set_state(ctx, in->id, INST_STOPPED, in->reason_code, in->reason, 0, err);
    case INST_STOPPED:
        if (!dom)
            return redefine(ctx, in, err);
        if (dom->active) /* started behind our back: say so rather than fight it */
            return inst_set_state(ctx, in->id, INST_RUNNING, "", "", 0, err);
        return 0;
    case INST_SHUTTING_DOWN:
        if (inst_teardown(ctx, in, false, err) < 0)
            return -1;
        return inst_set_state(ctx, in->id, INST_TERMINATED, in->reason_code, in->reason, 0, err);
    case INST_TERMINATED:
    case INST_STATE__LAST:
        break;
    }
    return 0;
}

static bool
needs_repair(const inst_obj *in, const dom_entry *dom)
{
    switch (in->state) {
    case INST_PENDING:
        return true;
    case INST_RUNNING:
        return !dom || !dom->active;
    case INST_STOPPING:
        return !dom || !dom->active || time(NULL) >= in->deadline;
    case INST_STOPPED:
        return !dom || dom->active;
    case INST_SHUTTING_DOWN:
        return true;
    default:
        return false;
    }
}

/* vmmgr's metadata of a domain, if it has some and names this state dir: 1 and the fields. */
static int
read_metadata(vm_ctx *ctx, virDomainPtr d, char id[VM_ID_MAX], char image[VM_ID_MAX], char rid[VM_ID_MAX],
              char type[32], char rootvol[VM_ID_MAX])
{
    _cleanup_free_ char *md = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, VMMGR_XMLNS, 0);
    if (!md) {
        virResetLastError();
        return 0;
    }
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlReadMemory(md, (int)strlen(md), "metadata.xml", NULL, XML_PARSE_NONET);
    if (!doc)
        return 0;
    bool mine = false;
    id[0] = image[0] = rid[0] = type[0] = rootvol[0] = '\0';
    for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        _cleanup_free_ char *v = (char *)xmlNodeGetContent(c);
        if (!v)
            continue;
        const char *n = (const char *)c->name;
        if (strcmp(n, "id") == 0)
            snprintf(id, VM_ID_MAX, "%s", v);
        else if (strcmp(n, "image") == 0)
            snprintf(image, VM_ID_MAX, "%s", v);
        else if (strcmp(n, "reservation") == 0)
            snprintf(rid, VM_ID_MAX, "%s", v);
        else if (strcmp(n, "type") == 0)
            snprintf(type, 32, "%s", v);
        else if (strcmp(n, "rootvolume") == 0 && vm_id_valid(v, "vol"))
            snprintf(rootvol, VM_ID_MAX, "%s", v);
        else if (strcmp(n, "statedir") == 0)
            mine = strcmp(v, ctx->state_dir) == 0;
    }
    return mine && vm_id_valid(id, "i") && vm_id_valid(image, "ami") && vm_id_valid(rid, "r") && inst_type_find(type);
}

/* A domain of ours with no record (the store was restored from an older copy, say): record it. */
static int
adopt(vm_ctx *ctx, dom_entry *dom, vm_error *err)
{
    char id[VM_ID_MAX], image[VM_ID_MAX], rid[VM_ID_MAX], type[32], rootvol[VM_ID_MAX];
    if (read_metadata(ctx, dom->d, id, image, rid, type, rootvol) != 1 || strcmp(id, dom->name) != 0)
        return 0;
    _cleanup_(img_obj_freep) img_obj *img = NULL;
    vm_error ignore = { 0 };
    if (img_get(ctx, image, &img, &ignore) < 0)
        return 0; /* its image is unknown here: leave the domain alone */
    char disk[4096], console[4096];
    if (rootvol[0])
        snprintf(disk, sizeof(disk), "%s/volumes/%s.qcow2", ctx->state_dir, rootvol);
    else
        snprintf(disk, sizeof(disk), "%s/instances/%s/root.qcow2", ctx->state_dir, id);
    snprintf(console, sizeof(console), "%s/instances/%s/console.log", ctx->state_dir, id);
    unsigned long long base = 0;
    img_size(ctx, img, &base, &ignore);
    inst_adoption ad = { .id = id, .reservation_id = rid, .image_id = image, .type = type, .running = dom->active,
                         .disk_path = disk, .console_path = console, .root_volume_id = rootvol,
                         .root_gib = (long)((base + (1ULL << 30) - 1) >> 30) };
    return inst_adopt_record(ctx, &ad, err);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Directories under instances/ that no record owns.  known: the records listed at the start of
 * this reconcile, which own theirs without a look-up each; a directory of any other id is looked up
 * (a launch recorded since then owns its own). */
static void
sweep_files(vm_ctx *ctx, inst_obj **known)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/instances", ctx->state_dir);
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t n = 0;
    while (known[n])
        n++;
    _cleanup_free_ const char **ids = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; ids && i < n; i++)
        ids[i] = known[i]->id;
    if (ids)
        qsort(ids, n, sizeof(char *), cmp_str);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!vm_id_valid(e->d_name, "i"))
            continue;
        const char *name = e->d_name;
        if (ids && bsearch(&name, ids, n, sizeof(char *), cmp_str))
            continue;
        _cleanup_(inst_obj_freep) inst_obj *in = NULL;
        vm_error err = { 0 };
        if (inst_get(ctx, e->d_name, &in, &err) == 0 || err.code != VM_ERR_INSTANCE_NOT_FOUND)
            continue;
        int fd = inst_lock(ctx, e->d_name, true, &err);
        if (fd < 0)
            continue;
        const char *files[] = { "root.qcow2", "console.log", "cidata.iso", "cidata.iso.part" };
        char path[4096 + 300];
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s/%s", dir, e->d_name, files[i]);
            unlink(path);
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        rmdir(path);
        vm_lock_release(fd);
    }
    closedir(d);
}

int
inst_reconcile(vm_ctx *ctx, vm_error *err)
{
    if (!vm_ctx_initialized(ctx))
        return 0;
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (inst_list(ctx, NULL, &insts, err) < 0)
        return -1;
    time_t now = time(NULL);
    bool work = false, busy = false;
    for (inst_obj **i = insts; *i; i++) {
        if ((*i)->state == INST_TERMINATED) {
            if ((*i)->changed_at + INST_TERMINATED_TTL < now && inst_forget(ctx, (*i)->id, err) < 0)
                return -1;
            continue;
        }
        work = true;
        /* another process works on it: a job starting its domain, say.  libvirt keeps a domain
         * locked while it starts, and listing domains waits for every one of them (seconds, with
         * its filters); then the instances free to repair are looked up one by one instead */
        int fd = busy ? -1 : inst_lock(ctx, (*i)->id, true, err);
        if (fd == -2)
            busy = true;
        else if (fd >= 0)
            vm_lock_release(fd);
        else if (!busy)
            return -1;
    }

    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    /* subnets' networks are transient: after a host reboot they are made again from the store.
     * A network that cannot start now is not this reconcile's failure; the next one retries. */
    vm_error net_err = { 0 };
    net_reconcile(ctx, &net_err);
    /* two calls, active and inactive, tell every domain's state without an RPC per domain; none
     * when busy (above): every instance then looks like it has no domain and is checked alone, and
     * domains without a record wait for the next reconcile */
    virDomainPtr *active = NULL, *inactive = NULL, *list = NULL;
    int na = busy ? 0 : virConnectListAllDomains(conn, &active, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    int ni = busy ? 0 : na < 0 ? -1 : virConnectListAllDomains(conn, &inactive, VIR_CONNECT_LIST_DOMAINS_INACTIVE);
    if (na < 0 || ni < 0) {
        for (int i = 0; i < na; i++)
            virDomainFree(active[i]);
        free(active);
        return vm_error_from_virt(err, "listing domains");
    }
    int n = na + ni;
    list = calloc((size_t)n + 1, sizeof(virDomainPtr));
    dom_entry *doms = calloc((size_t)n + 1, sizeof(dom_entry));
    int rc = 0;
    if (list) {
        memcpy(list, active, (size_t)na * sizeof(virDomainPtr));
        memcpy(list + na, inactive, (size_t)ni * sizeof(virDomainPtr));
    }
    free(active);
    free(inactive);
    if (!list || !doms) {
        rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        doms[i].d = list[i];
        doms[i].name = virDomainGetName(list[i]);
        doms[i].active = i < na;
    }
    qsort(doms, (size_t)n, sizeof(dom_entry), cmp_dom);

    for (inst_obj **i = insts; work && *i; i++) {
        if ((*i)->state == INST_TERMINATED)
            continue;
        dom_entry *dom = find_dom(doms, n, (*i)->id);
        if (dom)
            dom->claimed = true;
        if (!needs_repair(*i, dom))
            continue;
        int fd = inst_lock(ctx, (*i)->id, true, err);
        if (fd == -2)
            continue; /* another process is working on it */
        if (fd < 0) {
            rc = -1;
            break;
        }
        _cleanup_(inst_obj_freep) inst_obj *fresh = NULL;
        vm_error one = { 0 };
        /* reread under the lock: the other process may have finished meanwhile */
        if (inst_get(ctx, (*i)->id, &fresh, &one) == 0) {
            dom_entry *now_dom = NULL;
            virDomainPtr d = virDomainLookupByName(conn, fresh->id);
            dom_entry tmp = { 0 };
            if (d) {
                tmp.d = d;
                tmp.name = fresh->id;
                tmp.active = virDomainIsActive(d) == 1;
                now_dom = &tmp;
            } else {
                virResetLastError();
            }
            if (needs_repair(fresh, now_dom) && repair_one(ctx, fresh, now_dom, &one) < 0 && !vm_error_is_set(err))
                *err = one;
            if (d)
                virDomainFree(d);
        }
        vm_lock_release(fd);
    }

    for (int i = 0; i < n && rc == 0; i++)
        if (!doms[i].claimed && vm_id_valid(doms[i].name, "i")) {
            _cleanup_(inst_obj_freep) inst_obj *known = NULL;
            vm_error one = { 0 };
            if (inst_get(ctx, doms[i].name, &known, &one) < 0 && one.code == VM_ERR_INSTANCE_NOT_FOUND)
                rc = adopt(ctx, &doms[i], err);
        }
    sweep_files(ctx, insts);
    img_sweep(ctx);
    vol_reconcile(ctx);
    snap_reconcile(ctx);
out:
    for (int i = 0; list && i < n; i++)
        virDomainFree(list[i]);
    free(list);
    free(doms);
    return vm_error_is_set(err) ? -1 : rc;
}
