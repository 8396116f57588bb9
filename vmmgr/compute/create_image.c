/* CreateImage: an AMI from an instance's root disk.  The request records the pending image and
 * hands the copy to the "image" job (vmmgr/core/job.h), which shuts the guest down unless NoReboot,
 * copies its disk and makes the image available.  An instance operation over the image catalogue
 * (images/) and storage, so compute's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/db.h"
#include "../core/job.h"
#include "../core/lock.h"
#include "../../images/catalog.h"
#include "../../storage/overlay.h"
#include "../../storage/snapshot.h"
#include "../../storage/volume.h"
#include "instance.h"

int
inst_create_image(vm_ctx *ctx, const char *iid, const char *name, const char *desc, bool no_reboot,
                         vm_node *resp, vm_error *err)
{
    bool dry = ctx->dry_run;
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    _cleanup_(img_obj_freep) img_obj *src = NULL;
    if (img_check_name(name, err) < 0 || inst_get(ctx, iid, &in, err) < 0)
        return -1;
    if (in->state != INST_RUNNING && in->state != INST_STOPPED)
        return vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE, "The instance '%s' is not in a running or stopped state",
                            iid);
    if (img_get(ctx, in->image_id, &src, err) < 0)
        return -1;
    if (img_check_free(ctx, name, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);

    char id[VM_ID_MAX], base[4200], kpath[4200], ipath[4200];
    vm_id_new("ami", id);
    bool direct = src->kernel_path != NULL;
    snprintf(kpath, sizeof(kpath), "%s/images/%s/vmlinux", ctx->state_dir, id);
    snprintf(ipath, sizeof(ipath), "%s/images/%s/initrd.img", ctx->state_dir, id);
    int fd = inst_lock(ctx, iid, false, err);
    if (fd < 0)
        return -1;
    int lock = vm_ctx_lock(ctx, id, false, err);
    if (lock < 0) {
        vm_lock_release(fd);
        return -1;
    }
    int rc = img_record_pending(ctx, id, name, desc, src->boot, direct ? kpath : NULL, direct ? ipath : NULL, base,
                            sizeof(base), err);
    if (rc == 0) {
        rc = vm_db_run(ctx->db, err, "UPDATE images SET source_instance = ?, no_reboot = ? WHERE id = ?", "tit", iid,
                       (long long)no_reboot, id) < 0 ? -1 : 0;
    }
    if (rc == 0 && direct)
        rc = vol_file_copy_readonly(src->kernel_path, kpath, err) < 0 ||
                     (src->initrd_path && vol_file_copy_readonly(src->initrd_path, ipath, err) < 0)
                 ? -1
                 : 0;
    /* the copy (and the guest's shutdown for it) is the job's: the answer is the pending image */
    if (rc == 0)
        rc = vm_job_spawn(ctx, "image", id, (int[]){ lock, fd }, 2, err);
    if (rc < 0 && err->code != VM_ERR_AMI_NAME_DUPLICATE)
        img_discard(ctx, id);
    vm_lock_release(lock);
    vm_lock_release(fd);
    if (rc < 0)
        return -1;
    vm_node_str(resp, "imageId", NULL, id);
    return 0;
}

int
inst_create_image_finish(vm_ctx *ctx, const char *id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_stmt(ctx->db, &q, err,
                   "SELECT base_path, source_instance, no_reboot FROM images WHERE id = ? AND state = 'pending'", "t",
                   id) < 0)
        return -1;
    if (sqlite3_step(q) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_AMI_NOT_FOUND, "No pending image '%s'", id);
    char base[4200], iid[VM_ID_MAX];
    snprintf(base, sizeof(base), "%s", vm_db_text(q, 0));
    snprintf(iid, sizeof(iid), "%s", vm_db_text(q, 1));
    bool no_reboot = sqlite3_column_int(q, 2) != 0;
    sqlite3_reset(q); /* no read transaction held across the copy: the writes after it would be refused */
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    int was_running = 0;
    int rc = inst_get(ctx, iid, &in, err);
    /* a consistent copy: the guest is shut down for it unless NoReboot asks otherwise */
    if (rc == 0 && in->state == INST_RUNNING && !no_reboot && (was_running = inst_domain_quiesce(ctx, iid, err)) < 0)
        rc = -1;
    if (rc == 0)
        rc = img_convert(in->disk_path, "qcow2", base, in->state == INST_RUNNING && no_reboot, false, err);
    if (was_running > 0 && inst_domain_restart(ctx, iid, rc == 0 ? err : &(vm_error){ 0 }) < 0)
        rc = -1;
    if (rc == 0 && in->root_volume_id[0]) {
        /* as EC2 does: the AMI's root is a snapshot of the instance's root volume */
        char snap[VM_ID_MAX], sdesc[160];
        snprintf(sdesc, sizeof(sdesc), "Created by CreateImage(%s) for %s", iid, id);
        _cleanup_stmt_ sqlite3_stmt *sz = NULL;
        rc = vm_db_stmt(ctx->db, &sz, err, "SELECT size_gib FROM volumes WHERE id = ?", "t", in->root_volume_id);
        if (rc == 0) {
            long gib = sqlite3_step(sz) == SQLITE_ROW ? sqlite3_column_int64(sz, 0) : 1;
            /* the SELECT's read snapshot must end before the INSERT: upgraded to a write after another
             * connection's commit it fails at once (SQLITE_BUSY_SNAPSHOT), without the busy timeout */
            sqlite3_reset(sz);
            rc = snap_record_for_image(ctx, id, in->root_volume_id, gib, sdesc, base, snap, err);
        }
    }
    if (rc == 0)
        rc = img_set_state(ctx, id, "available", err);
    if (rc < 0) {
        /* a failed image is gone, as EC2's 'failed' one would be deregistered */
        img_discard(ctx, id);
        return -1;
    }
    return 0;
}
