/* ModifyVolume (grow, new type and limits; live on an attached volume) and its record. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/filter.h"
#include "../vmmgr/core/lock.h"
#include "disk.h"
#include "volume.h"
#include "volume_priv.h"


static void
render_modification(vm_node *it, sqlite3_stmt *st)
{
    vm_node_str(it, "volumeId", NULL, vm_db_text(st, 0));
    vm_node_str(it, "modificationState", NULL, vm_db_text(st, 1));
    vm_node_int(it, "originalSize", NULL, sqlite3_column_int64(st, 2));
    vm_node_int(it, "targetSize", NULL, sqlite3_column_int64(st, 3));
    vm_node_str(it, "originalVolumeType", NULL, vm_db_text(st, 4));
    vm_node_str(it, "targetVolumeType", NULL, vm_db_text(st, 5));
    vm_node_int(it, "originalIops", NULL, sqlite3_column_int64(st, 6));
    vm_node_int(it, "targetIops", NULL, sqlite3_column_int64(st, 7));
    vm_node_int(it, "originalThroughput", NULL, sqlite3_column_int64(st, 8));
    vm_node_int(it, "targetThroughput", NULL, sqlite3_column_int64(st, 9));
    vm_node_int(it, "progress", NULL, strcmp(vm_db_text(st, 1), "completed") == 0 ? 100 : 0);
    vm_node_time(it, "startTime", NULL, sqlite3_column_int64(st, 10));
    if (sqlite3_column_type(st, 11) != SQLITE_NULL)
        vm_node_time(it, "endTime", NULL, sqlite3_column_int64(st, 11));
}

#define MOD_COLUMNS                                                                                           \
    "volume_id, state, original_size, target_size, original_type, target_type, original_iops, target_iops, "   \
    "original_throughput, target_throughput, started_at, ended_at"


static int modify_locked(vm_ctx *ctx, const vol_modify_req *r, const vol_obj *v, bool dry, vm_node *resp,
                         vm_error *err);

int
vol_modify(vm_ctx *ctx, const vol_modify_req *r, vm_node *resp, vm_error *err)
{
    const char *vid = r->volume_id;
    _cleanup_(vol_obj_freep) vol_obj *v = NULL;
    bool dry = ctx->dry_run;
    if (vol_get(ctx, vid, &v, err) < 0)
        return -1;
    /* the locks every other operation on the volume takes: its instance's (when attached), then its
     * own, the order of attach and detach; the volume is read again under them, and an attachment
     * that changed meanwhile means other locks: take those instead */
    int fd = -1, vfd = -1;
    for (int tries = 0;; tries++) {
        char owner[VM_ID_MAX] = "";
        if (v->instance_id)
            snprintf(owner, sizeof(owner), "%s", v->instance_id);
        if (!dry && ((owner[0] && (fd = vm_ctx_lock(ctx, owner, false, err)) < 0) ||
                     (vfd = vol_lock(ctx, vid, false, err)) < 0)) {
            vm_lock_release(fd);
            return -1;
        }
        vol_obj_free(TAKE_PTR(v));
        if (vol_get(ctx, vid, &v, err) < 0) {
            vm_lock_release(vfd);
            vm_lock_release(fd);
            return -1;
        }
        if (dry || strcmp(owner, v->instance_id ? v->instance_id : "") == 0)
            break;
        vm_lock_release(vfd);
        vm_lock_release(fd);
        fd = vfd = -1;
        if (tries == 5)
            return vm_error_set(err, VM_ERR_INCORRECT_STATE, "The volume '%s' is being attached or detached", vid);
    }
    int rc = modify_locked(ctx, r, v, dry, resp, err);
    vm_lock_release(vfd);
    vm_lock_release(fd);
    return rc;
}

static int
modify_locked(vm_ctx *ctx, const vol_modify_req *r, const vol_obj *v, bool dry, vm_node *resp, vm_error *err)
{
    const char *vid = v->id;
    const char *tname = r->type;
    const vol_type *t = vol_type_find(tname ? tname : v->type);
    if (!t)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter volumeType is invalid", tname);
    if (r->iops >= 0 && (r->iops < 100 || r->iops > t->max_iops))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "value '%ld' for parameter 'Iops' is not an integer from 100 to %ld", r->iops, t->max_iops);
    long size = r->size ? r->size : v->size_gib;
    long iops = r->iops >= 0 ? r->iops : tname && !t->iops_given ? t->iops : v->iops;
    long mibps = r->throughput >= 0 ? r->throughput : tname ? t->mibps : v->throughput;
    if (size < v->size_gib)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "New size (%ld) cannot be smaller than existing size (%ld)", size, v->size_gib);
    if (t->iops_given && !iops)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter iops must be specified for %s volumes", t->name);
    if (size == v->size_gib && strcmp(t->name, v->type) == 0 && iops == v->iops && mibps == v->throughput)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION, "the modification asks for no change");
    if (dry)
        return vm_error_dry_run(err);

    /* the guest's state first: with libvirt out of reach nothing is recorded */
    int live = v->instance_id ? disk_domain_live(ctx, v->instance_id, err) : 0;
    if (live < 0)
        return -1;
    int rc = vm_db_run(ctx->db, err,
                       "INSERT INTO volume_modifications (volume_id, state, original_size, target_size, original_type, "
                       "target_type, original_iops, target_iops, original_throughput, target_throughput, started_at) "
                       "VALUES (?, 'modifying', ?, ?, ?, ?, ?, ?, ?, ?, strftime('%s','now'))",
                       "tiittiiii", vid, (long long)v->size_gib, (long long)size, v->type, t->name, (long long)v->iops,
                       (long long)iops, (long long)v->throughput, (long long)mibps) < 0 ? -1 : 0;
    sqlite3_int64 mod = sqlite3_last_insert_rowid(ctx->db);
    char target[8] = "";
    if (v->device)
        vol_device_target(v->device, target, err);
    if (rc == 0 && size > v->size_gib) {
        if (live) {
            rc = disk_grow_live(ctx, v->instance_id, target, size, err);
        } else {
            rc = disk_file_grow(v->path, size, err);
        }
    }
    if (rc == 0 && v->instance_id && (iops != v->iops || mibps != v->throughput))
        rc = disk_set_limits(ctx, v->instance_id, target, iops, mibps * MIB, err);
    if (rc == 0) {
        _cleanup_stmt_ sqlite3_stmt *up = NULL, *done = NULL;
        if (vm_db_prepare(ctx->db, "UPDATE volumes SET size_gib = ?, type = ?, iops = ?, throughput = ? WHERE id = ?", &up,
                          err) < 0 ||
            vm_db_prepare(ctx->db,
                          "UPDATE volume_modifications SET state = 'completed', ended_at = strftime('%s','now') WHERE id = ?",
                          &done, err) < 0)
            rc = -1;
        else {
            if (vm_db_bind(up, err, "itiit", (long long)size, t->name, (long long)iops, (long long)mibps, vid) < 0 ||
                vm_db_bind(done, err, "i", (long long)mod) < 0 || sqlite3_step(up) != SQLITE_DONE ||
                sqlite3_step(done) != SQLITE_DONE)
                rc = vm_db_error(ctx->db, "saving the modification", err);
        }
    } else {
        vm_db_run(ctx->db, &(vm_error){ 0 }, "UPDATE volume_modifications SET state = 'failed' WHERE id = ?", "i",
                  (long long)mod);
    }
    if (rc < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_stmt(ctx->db, &q, err, "SELECT " MOD_COLUMNS " FROM volume_modifications WHERE id = ?", "i",
                   (long long)mod) < 0)
        return -1;
    if (sqlite3_step(q) == SQLITE_ROW)
        render_modification(vm_node_struct(resp, "volumeModification", NULL), q);
    return 0;
}

int
vol_describe_modifications(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp,
                           vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " MOD_COLUMNS " FROM volume_modifications ORDER BY id", &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "volumeModificationSet", "VolumesModifications");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *vid = vm_db_text(st, 0);
        if (nids && !vm_match_any(vid, ids))
            continue;
        bool keep = true;
        for (size_t f = 0; keep && f < fs->n; f++) {
            static const struct {
                const char *name;
                int col;
            } cols[] = { { "volume-id", 0 },       { "modification-state", 1 }, { "original-size", 2 },
                         { "target-size", 3 },     { "original-volume-type", 4 }, { "target-volume-type", 5 },
                         { "original-iops", 6 },   { "target-iops", 7 } };
            const char *subject = NULL;
            for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]) && !subject; c++)
                if (strcmp(fs->v[f].name, cols[c].name) == 0)
                    subject = vm_db_text(st, cols[c].col);
            keep = subject && vm_match_any(subject, fs->v[f].values);
        }
        if (keep)
            render_modification(vm_node_item(list), st);
    }
    return 0;
}

