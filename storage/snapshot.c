#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/filter.h"
#include "../vmmgr/core/ids.h"
#include "../vmmgr/core/job.h"
#include "../vmmgr/core/lock.h"
#include "../vmmgr/core/tags.h"
#include "disk.h"
#include "volume_priv.h"

static int
set_state(vm_ctx *ctx, const char *id, const char *state, int progress, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "UPDATE snapshots SET state = ?, progress = ? WHERE id = ?", "tit", state,
                   (long long)progress, id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving snapshot", err);
    return 0;
}

/* The snapshot's progress while the guest's QEMU copies the disk: in describe-snapshots once a
 * second, and on the terminal when shown. */
typedef struct copy_progress {
    vm_ctx *ctx;
    const char *snap_id;
    bool show;
    int shown, calls;
} copy_progress;

static void
copy_progress_cb(void *opaque, int pct)
{
    copy_progress *p = opaque;
    if (p->calls++ % 10 == 0)
        vm_db_run(p->ctx->db, &(vm_error){ 0 }, "UPDATE snapshots SET progress = ? WHERE id = ? AND state = 'pending'",
                  "it", (long long)pct, p->snap_id);
    if (p->show && pct != p->shown) {
        fprintf(stderr, "\r%s: %d%%", p->snap_id, pct);
        p->shown = pct;
    }
}

/* A point-in-time copy of a disk in use: libvirt's push backup (disk.c), waited for. */
static int
copy_live(vm_ctx *ctx, const char *snap_id, const char *instance_id, const char *target, const char *path,
          bool show, vm_error *err)
{
    copy_progress p = { .ctx = ctx, .snap_id = snap_id, .show = show, .shown = -1 };
    int rc = disk_backup_live(ctx, instance_id, target, path, copy_progress_cb, &p, err);
    if (show && rc == 0)
        fprintf(stderr, "\r%s: 100%%\n", snap_id);
    return rc;
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
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE id = ? AND state != 'deleted'", "t",
                   id) < 0)
        return -1;
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
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO snapshots (id, volume_id, size_gib, state, description, path, source, created_at) "
                   "VALUES (?, ?, ?, 'pending', ?, ?, ?, strftime('%s','now'))",
                   "ttittt", id, vol, (long long)size, desc ? desc : "", path, source ? source : "") < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording snapshot", err);
    return 0;
}

int
snap_finish(vm_ctx *ctx, const char *id, bool show, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_stmt(ctx->db, &q, err,
                   "SELECT s.path, s.source, v.path, v.instance_id, v.device FROM snapshots s "
                   "LEFT JOIN volumes v ON v.id = s.volume_id WHERE s.id = ? AND s.state = 'pending'",
                   "t", id) < 0)
        return -1;
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
        rc = disk_file_copy(source, path, show, err); /* CopySnapshot */
    } else {
        /* a volume in use by a running guest is copied by the guest's QEMU (crash-consistent) */
        bool live = *inst && disk_domain_live(ctx, inst, &(vm_error){ 0 }) == 1;
        if (live) {
            char target[8];
            snprintf(target, sizeof(target), "vd%c", *dev ? dev[strlen(dev) - 1] : 'a');
            rc = copy_live(ctx, id, inst, target, path, show, err);
        } else {
            rc = disk_file_copy(vpath, path, show, err);
        }
    }
    if (rc == 0)
        chmod(path, 0444);
    /* a snapshot deleted while it was copied stays deleted */
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, rc < 0 ? &(vm_error){ 0 } : err,
                   "UPDATE snapshots SET state = ?, progress = ? WHERE id = ? AND state = 'pending'", "tit",
                   rc < 0 ? "error" : "completed", (long long)(rc < 0 ? 0 : 100), id) < 0)
        return -1;
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
    if (vm_db_stmt(ctx->db, &st, err, "SELECT path, size_gib, state FROM snapshots WHERE id = ? AND state != 'deleted'",
                   "t", id) < 0)
        return -1;
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
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO snapshots (id, volume_id, size_gib, state, progress, description, path, created_at, "
                   "image_id) VALUES (?, ?, ?, 'completed', 100, ?, ?, strftime('%s','now'), ?)",
                   "ttittt", ret_id, volume_id, (long long)size_gib, desc, path, image_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording the image's snapshot", err);
    return 0;
}

int
snap_of_image(vm_ctx *ctx, const char *image_id, char ret_id[VM_ID_MAX], long *ret_size, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id, size_gib FROM snapshots WHERE image_id = ? AND state != 'deleted'",
                   "t", image_id) < 0)
        return -1;
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
    if (vm_db_stmt(ctx->db, &use, err,
                   "SELECT i.id FROM snapshots s JOIN images i ON i.id = s.image_id "
                   "WHERE s.id = ? AND i.state != 'deregistered'",
                   "t", id) < 0)
        return -1;
    if (sqlite3_step(use) == SQLITE_ROW)
        return vm_error_set(err, VM_ERR_SNAPSHOT_IN_USE, "The snapshot %s is currently in use by %s", id,
                            vm_db_text(use, 0));
    /* a pending copy reads its file */
    _cleanup_stmt_ sqlite3_stmt *copy = NULL;
    if (path && vm_db_stmt(ctx->db, &copy, err, "SELECT id FROM snapshots WHERE state = 'pending' AND source = ?", "t",
                           path) < 0)
        return -1;
    if (copy) {
        if (sqlite3_step(copy) == SQLITE_ROW)
            return vm_error_set(err, VM_ERR_SNAPSHOT_IN_USE, "The snapshot %s is currently in use by %s", id,
                                vm_db_text(copy, 0));
    }
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT path, image_id FROM snapshots WHERE id = ?", "t", id) < 0)
        return -1;
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
    if (vm_db_stmt(ctx->db, &st, err, "SELECT volume_id FROM snapshots WHERE id = ?", "t", src_id) < 0)
        return -1;
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
