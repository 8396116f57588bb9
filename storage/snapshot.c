#include "snapshot.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/filter.h"
#include "../vmmgr/core/ids.h"
#include "../vmmgr/core/job.h"
#include "../vmmgr/core/lock.h"
#include "../vmmgr/core/tags.h"
#include "volume_priv.h"
#include "../vmmgr/core/xmlw.h"

VM_DEFINE_CLEANUP(virDomainPtr, virDomainFree)

static int
set_state(vm_ctx *ctx, const char *id, const char *state, int progress, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "UPDATE snapshots SET state = ?, progress = ? WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, progress);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving snapshot", err);
    return 0;
}

/* The backup job's XML: only target is copied, to path; every other disk of the domain is left out. */
static char *
backup_xml(virDomainPtr dom, const char *target, const char *path, vm_error *err)
{
    _cleanup_free_ char *dxml = virDomainGetXMLDesc(dom, 0);
    _cleanup_(xmlFreeDocp) xmlDocPtr ddoc = dxml ? xmlReadMemory(dxml, (int)strlen(dxml), "dom.xml", NULL, XML_PARSE_NONET) : NULL;
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

/* A point-in-time copy of a disk in use: libvirt's push backup, waited for. */
static int set_state(vm_ctx *ctx, const char *id, const char *state, int progress, vm_error *err);

static int
copy_live(vm_ctx *ctx, const char *snap_id, const char *instance_id, const char *target, const char *path,
          bool show, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    _cleanup_(virDomainFreep) virDomainPtr dom = conn ? virDomainLookupByName(conn, instance_id) : NULL;
    if (!dom)
        return vm_error_is_set(err) ? -1 : vm_error_from_virt(err, "looking up '%s'", instance_id);
    _cleanup_free_ char *xml = backup_xml(dom, target, path, err);
    if (!xml)
        return -1;
    if (virDomainBackupBegin(dom, xml, NULL, 0) < 0)
        return vm_error_from_virt(err, "starting the backup of '%s'", target);
    int shown = -1;
    for (int i = 0; i < 36000; i++) {
        virDomainJobInfo info;
        if (virDomainGetJobInfo(dom, &info) < 0)
            return vm_error_from_virt(err, "watching the backup of '%s'", target);
        if (info.type == VIR_DOMAIN_JOB_NONE)
            break;
        /* Progress in describe-snapshots as the copy goes (once a second), and on the terminal */
        int pct = info.dataTotal ? (int)(info.dataProcessed * 100 / info.dataTotal) : 0;
        if (pct > 99)
            pct = 99;
        if (i % 10 == 0) {
            _cleanup_stmt_ sqlite3_stmt *st = NULL;
            if (vm_db_prepare(ctx->db, "UPDATE snapshots SET progress = ? WHERE id = ? AND state = 'pending'", &st,
                              &(vm_error){ 0 }) == 0) {
                sqlite3_bind_int(st, 1, pct);
                sqlite3_bind_text(st, 2, snap_id, -1, SQLITE_STATIC);
                sqlite3_step(st);
            }
        }
        if (show && pct != shown) {
            fprintf(stderr, "\r%s: %d%%", snap_id, pct);
            shown = pct;
        }
        usleep(100 * 1000);
    }
    if (show)
        fprintf(stderr, "\r%s: 100%%\n", snap_id);
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

static int
copy_offline(const char *src, const char *path, bool show, vm_error *err)
{
    const char *argv[] = { "qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", show ? "-p" : src,
                           show ? src : path, show ? path : NULL, NULL };
    vm_cmd_limits lim = { .timeout_sec = 3600, .show_output = show };
    return vm_cmd_run(argv, &lim, NULL, err);
}

static void
render(vm_ctx *ctx, vm_node *it, sqlite3_stmt *st, vm_error *err)
{
    char progress[8];
    vm_node_str(it, "snapshotId", NULL, vm_db_text(st, 0));
    vm_node_str(it, "volumeId", NULL, vm_db_text(st, 1));
    vm_node_int(it, "volumeSize", NULL, sqlite3_column_int64(st, 2));
    vm_node_str(it, "status", "State", vm_db_text(st, 3));
    snprintf(progress, sizeof(progress), "%d%%", sqlite3_column_int(st, 4));
    vm_node_str(it, "progress", NULL, progress);
    vm_node_str(it, "description", NULL, vm_db_text(st, 5));
    vm_node_time(it, "startTime", NULL, sqlite3_column_int64(st, 7));
    vm_node_str(it, "ownerId", NULL, ctx->account_id);
    vm_node_bool(it, "encrypted", NULL, false);
    vm_node_str(it, "storageTier", NULL, "standard");
    vm_tags_render(ctx, it, vm_db_text(st, 0), err);
}

#define SNAP_COLUMNS "id, volume_id, size_gib, state, progress, description, path, created_at"

static int
render_one(vm_ctx *ctx, vm_node *it, const char *id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE id = ? AND state != 'deleted'", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_SNAPSHOT_NOT_FOUND, "The snapshot '%s' does not exist.", id);
    render(ctx, it, st, err);
    return vm_error_is_set(err) ? -1 : 0;
}

static int
record(vm_ctx *ctx, const char *id, const char *vol, long size, const char *desc, const char *path, const char *source,
       vm_error *err)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/snapshots", ctx->state_dir);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", dir);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO snapshots (id, volume_id, size_gib, state, description, path, source, created_at) "
                      "VALUES (?, ?, ?, 'pending', ?, ?, ?, strftime('%s','now'))",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, vol, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, size);
    sqlite3_bind_text(st, 4, desc ? desc : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, source ? source : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording snapshot", err);
    return 0;
}

int
snap_finish(vm_ctx *ctx, const char *id, bool show, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT s.path, s.source, v.path, v.instance_id, v.device FROM snapshots s "
                      "LEFT JOIN volumes v ON v.id = s.volume_id WHERE s.id = ? AND s.state = 'pending'",
                      &q, err) < 0)
        return -1;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_SNAPSHOT_NOT_FOUND, "No pending snapshot '%s'", id);
    _cleanup_free_ char *path = strdup(vm_db_text(q, 0)), *source = strdup(vm_db_text(q, 1));
    _cleanup_free_ char *vpath = strdup(vm_db_text(q, 2)), *inst = strdup(vm_db_text(q, 3));
    _cleanup_free_ char *dev = strdup(vm_db_text(q, 4));
    sqlite3_reset(q); /* no read transaction held across the copy: the writes after it would be refused */
    if (!path || !source || !vpath || !inst || !dev)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    int rc;
    if (*source) {
        rc = copy_offline(source, path, show, err); /* CopySnapshot */
    } else {
        /* a volume in use by a running guest is copied by the guest's QEMU (crash-consistent) */
        bool live = false;
        if (*inst) {
            virConnectPtr conn = vm_ctx_conn(ctx, err);
            virDomainPtr dom = conn ? virDomainLookupByName(conn, inst) : NULL;
            live = dom && virDomainIsActive(dom) == 1;
            if (dom)
                virDomainFree(dom);
            virResetLastError();
            *err = (vm_error){ 0 };
        }
        if (live) {
            char target[8];
            snprintf(target, sizeof(target), "vd%c", *dev ? dev[strlen(dev) - 1] : 'a');
            rc = copy_live(ctx, id, inst, target, path, show, err);
        } else {
            rc = copy_offline(vpath, path, show, err);
        }
    }
    if (rc == 0)
        chmod(path, 0444);
    /* a snapshot deleted while it was copied stays deleted */
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "UPDATE snapshots SET state = ?, progress = ? WHERE id = ? AND state = 'pending'", &st,
                      rc < 0 ? &(vm_error){ 0 } : err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, rc < 0 ? "error" : "completed", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, rc < 0 ? 0 : 100);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    if (rc < 0)
        unlink(path);
    if (sqlite3_step(st) != SQLITE_DONE && rc == 0)
        return vm_db_error(ctx->db, "saving snapshot", err);
    if (rc == 0 && sqlite3_changes(ctx->db) == 0)
        unlink(path); /* deleted meanwhile */
    return rc;
}

/* Copies pending snapshot id: here when a person watches the progress on the terminal, else in a
 * job that inherits the request's locks (fds: the snapshot's own, taken before it was recorded as
 * pending, and its volume's), so the answer is "pending". */
static int
start_copy(vm_ctx *ctx, const char *id, bool show, const int *fds, size_t nfds, vm_error *err)
{
    if (show)
        return snap_finish(ctx, id, true, err);
    if (vm_job_spawn(ctx, "snapshot", id, fds, nfds, err) < 0) {
        vm_error ignore = { 0 };
        set_state(ctx, id, "error", 0, &ignore);
        return -1;
    }
    return 0;
}

int
snap_create(vm_ctx *ctx, const char *vid, const char *desc, const vm_tag *tags, size_t ntags, vm_node *resp,
            vm_error *err)
{
    bool show = ctx->progress;
    if (!vm_id_valid(vid, "vol"))
        return vm_error_set(err, VM_ERR_VOLUME_MALFORMED, "Invalid id: \"%s\" (expecting \"vol-...\")", vid);
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_stmt(ctx->db, &q, err, "SELECT size_gib FROM volumes WHERE id = ? AND state IN ('available', 'in-use')",
                   "t", vid) < 0)
        return -1;
    if (sqlite3_step(q) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_VOLUME_NOT_FOUND, "The volume '%s' does not exist.", vid);
    long size = sqlite3_column_int64(q, 0);
    if (ctx->dry_run)
        return vm_error_dry_run(err);

    char id[VM_ID_MAX], path[4200];
    vm_id_new("snap", id);
    snprintf(path, sizeof(path), "%s/snapshots/%s.qcow2", ctx->state_dir, id);
    /* the volume's lock for the whole copy (no attach, detach or resize under it) */
    int vfd = vol_lock(ctx, vid, false, err);
    if (vfd < 0)
        return -1;
    int sfd = vm_ctx_lock(ctx, id, false, err);
    if (sfd < 0) {
        vm_lock_release(vfd);
        return -1;
    }
    int rc = record(ctx, id, vid, size, desc, path, NULL, err);
    if (rc == 0)
        rc = vm_tags_put(ctx, id, tags, ntags, err);
    vm_crash_point("snapshot-copying");
    if (rc == 0)
        rc = start_copy(ctx, id, show, (int[]){ sfd, vfd }, 2, err);
    vm_lock_release(sfd);
    vm_lock_release(vfd);
    if (rc < 0)
        return -1;
    return render_one(ctx, resp, id, err);
}

int
snap_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp, vm_error *err)
{
    for (size_t i = 0; i < nids; i++) {
        if (!vm_id_valid(ids[i], "snap"))
            return vm_error_set(err, VM_ERR_SNAPSHOT_MALFORMED, "Invalid id: \"%s\"", ids[i]);
        vm_node *tmp = vm_node_new_root("Check");
        int rc = render_one(ctx, tmp, ids[i], err);
        vm_node_free(tmp);
        if (rc < 0)
            return -1;
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE state != 'deleted' ORDER BY created_at, id",
                      &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "snapshotSet", "Snapshots");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = vm_db_text(st, 0);
        if (nids && !vm_match_any(id, ids))
            continue;
        bool keep = true;
        for (size_t f = 0; keep && f < fs->n; f++) {
            const char *fn = fs->v[f].name;
            char size[24], progress[8];
            snprintf(size, sizeof(size), "%lld", (long long)sqlite3_column_int64(st, 2));
            snprintf(progress, sizeof(progress), "%d%%", sqlite3_column_int(st, 4));
            const char *subject = strcmp(fn, "snapshot-id") == 0    ? id
                                  : strcmp(fn, "volume-id") == 0    ? vm_db_text(st, 1)
                                  : strcmp(fn, "status") == 0       ? vm_db_text(st, 3)
                                  : strcmp(fn, "description") == 0  ? vm_db_text(st, 5)
                                  : strcmp(fn, "owner-id") == 0     ? ctx->account_id
                                  : strcmp(fn, "volume-size") == 0  ? size
                                  : strcmp(fn, "progress") == 0     ? progress
                                  : strcmp(fn, "encrypted") == 0    ? "false"
                                  : strcmp(fn, "storage-tier") == 0 ? "standard"
                                                                    : NULL;
            int m = subject ? vm_match_any(subject, fs->v[f].values) : vm_tags_match(ctx, id, fn, fs->v[f].values, err);
            if (m < 0)
                return -1;
            keep = m;
        }
        if (!keep)
            continue;
        render(ctx, vm_node_item(list), st, err);
        if (vm_error_is_set(err))
            return -1;
    }
    return 0;
}

int
snap_source(vm_ctx *ctx, const char *id, char **ret_path, long *ret_size, vm_error *err)
{
    if (!vm_id_valid(id, "snap"))
        return vm_error_set(err, VM_ERR_SNAPSHOT_MALFORMED, "Invalid id: \"%s\"", id);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT path, size_gib, state FROM snapshots WHERE id = ? AND state != 'deleted'", &st,
                      err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_SNAPSHOT_NOT_FOUND, "The snapshot '%s' does not exist.", id);
    if (strcmp(vm_db_text(st, 2), "completed") != 0)
        return vm_error_set(err, VM_ERR_INCORRECT_STATE, "Snapshot '%s' is not completed", id);
    *ret_path = strdup(vm_db_text(st, 0));
    *ret_size = sqlite3_column_int64(st, 1);
    return 0;
}

int
snap_record_for_image(vm_ctx *ctx, const char *image_id, const char *volume_id, long size_gib, const char *desc,
                      const char *path, char ret_id[VM_ID_MAX], vm_error *err)
{
    vm_id_new("snap", ret_id);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO snapshots (id, volume_id, size_gib, state, progress, description, path, created_at, "
                      "image_id) VALUES (?, ?, ?, 'completed', 100, ?, ?, strftime('%s','now'), ?)",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, ret_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, volume_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, size_gib);
    sqlite3_bind_text(st, 4, desc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, image_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording the image's snapshot", err);
    return 0;
}

int
snap_of_image(vm_ctx *ctx, const char *image_id, char ret_id[VM_ID_MAX], long *ret_size, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id, size_gib FROM snapshots WHERE image_id = ? AND state != 'deleted'", &st,
                      err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    snprintf(ret_id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    if (ret_size)
        *ret_size = sqlite3_column_int64(st, 1);
    return 1;
}

int
snap_delete(vm_ctx *ctx, const char *id, vm_node *resp, vm_error *err)
{
    _cleanup_free_ char *path = NULL;
    long size;
    if (snap_source(ctx, id, &path, &size, err) < 0 && err->code != VM_ERR_INCORRECT_STATE)
        return -1;
    *err = (vm_error){ 0 };
    /* the snapshot behind a registered AMI is its disk: it stays until the AMI is deregistered */
    _cleanup_stmt_ sqlite3_stmt *use = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT i.id FROM snapshots s JOIN images i ON i.id = s.image_id "
                      "WHERE s.id = ? AND i.state != 'deregistered'",
                      &use, err) < 0)
        return -1;
    sqlite3_bind_text(use, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(use) == SQLITE_ROW)
        return vm_error_set(err, VM_ERR_SNAPSHOT_IN_USE, "The snapshot %s is currently in use by %s", id,
                            vm_db_text(use, 0));
    /* a pending copy reads its file */
    _cleanup_stmt_ sqlite3_stmt *copy = NULL;
    if (path && vm_db_prepare(ctx->db, "SELECT id FROM snapshots WHERE state = 'pending' AND source = ?", &copy, err) < 0)
        return -1;
    if (copy) {
        sqlite3_bind_text(copy, 1, path, -1, SQLITE_STATIC);
        if (sqlite3_step(copy) == SQLITE_ROW)
            return vm_error_set(err, VM_ERR_SNAPSHOT_IN_USE, "The snapshot %s is currently in use by %s", id,
                                vm_db_text(copy, 0));
    }
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT path, image_id FROM snapshots WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (unlink(vm_db_text(st, 0)) < 0 && errno != ENOENT)
            return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot remove the snapshot file");
        if (*vm_db_text(st, 1)) { /* the deregistered AMI's directory held it */
            char dir[4200];
            snprintf(dir, sizeof(dir), "%s/images/%s", ctx->state_dir, vm_db_text(st, 1));
            rmdir(dir);
        }
    }
    if (set_state(ctx, id, "deleted", 100, err) < 0)
        return -1;
    vm_node_bool(resp, "return", NULL, true);
    return 0;
}

int
snap_copy(vm_ctx *ctx, const char *src_id, const char *region, const char *desc, vm_node *resp, vm_error *err)
{
    _cleanup_free_ char *src = NULL;
    long size;
    if (snap_source(ctx, src_id, &src, &size, err) < 0)
        return -1;
    if (region && strcmp(region, ctx->region) != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "only copies within region '%s' are possible", ctx->region);
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    char vol[VM_ID_MAX] = "";
    if (vm_db_prepare(ctx->db, "SELECT volume_id FROM snapshots WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, src_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(vol, sizeof(vol), "%s", vm_db_text(st, 0));
    char id[VM_ID_MAX], path[4200];
    vm_id_new("snap", id);
    snprintf(path, sizeof(path), "%s/snapshots/%s.qcow2", ctx->state_dir, id);
    bool show = ctx->progress;
    int sfd = vm_ctx_lock(ctx, id, false, err);
    if (sfd < 0)
        return -1;
    int rc = record(ctx, id, vol, size, desc, path, src, err);
    if (rc == 0)
        rc = start_copy(ctx, id, show, &sfd, 1, err);
    vm_lock_release(sfd);
    if (rc < 0)
        return -1;
    vm_node_str(resp, "snapshotId", NULL, id);
    return 0;
}

void
snap_reconcile(vm_ctx *ctx)
{
    sqlite3_stmt *st = NULL;
    char ids[32][VM_ID_MAX], vols[32][VM_ID_MAX], paths[32][4200];
    int n = 0;
    if (sqlite3_prepare_v2(ctx->db, "SELECT id, volume_id, path FROM snapshots WHERE state = 'pending' LIMIT 32", -1, &st,
                           NULL) == SQLITE_OK)
        while (n < 32 && sqlite3_step(st) == SQLITE_ROW) {
            snprintf(ids[n], VM_ID_MAX, "%s", vm_db_text(st, 0));
            snprintf(vols[n], VM_ID_MAX, "%s", vm_db_text(st, 1));
            snprintf(paths[n], sizeof(paths[n]), "%s", vm_db_text(st, 2));
            n++;
        }
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++) {
        vm_error err = { 0 };
        int fd = vm_ctx_lock(ctx, ids[i], true, &err);
        if (fd < 0)
            continue; /* the copy is still running in another process (a job, or a watched copy) */
        /* a copy whose process died: the file may be partial, so it goes and the snapshot failed */
        unlink(paths[i]);
        set_state(ctx, ids[i], "error", 0, &err);
        vm_lock_release(fd);
    }
}
