/* The volumes of instances: their device names, their disks in an instance's definition and its
 * description, and the unplug that reconcile repeats (AttachVolume and DetachVolume themselves are
 * compute's, vmmgr/compute/volume_attach.c; the libvirt side is disk.c's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/filter.h"
#include "../vmmgr/core/lock.h"
#include "disk.h"
#include "volume.h"
#include "../net/net.h"
#include "volume_priv.h"

int
vol_device_target(const char *dev, char target[8], vm_error *err)
{
    const char *letter = NULL;
    if (dev && strncmp(dev, "/dev/sd", 7) == 0)
        letter = dev + 7;
    else if (dev && strncmp(dev, "/dev/xvd", 8) == 0)
        letter = dev + 8;
    else if (dev && strncmp(dev, "/dev/vd", 7) == 0)
        letter = dev + 7;
    if (!letter || letter[0] < 'b' || letter[0] > 'y' || letter[1] != '\0')
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Value (%s) for parameter device is invalid. %s is not a valid EBS device name.",
                            dev ? dev : "", dev ? dev : "");
    snprintf(target, 8, "vd%c", letter[0]);
    return 0;
}

void
vol_disk_of(const vol_obj *v, const char *target, char serial[24], vol_disk *d)
{
    snprintf(serial, 24, "vol%s", v->id + 4);
    d->path = v->path;
    d->target = target;
    d->serial = serial;
    d->iops = v->iops;
    d->bytes_per_sec = v->throughput * MIB;
}

/* Records that the guest is asked now; false when it was asked less than UNPLUG_AGAIN_SEC ago. */
#define UNPLUG_AGAIN_SEC 10
bool
vol_unplug_due(vm_ctx *ctx, const char *id, bool force)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, &(vm_error){ 0 },
                   "UPDATE volumes SET unplug_at = strftime('%s','now') WHERE id = ?1 AND "
                   "(?2 OR unplug_at <= strftime('%s','now') - ?3)",
                   "tii", id, (long long)force, (long long)UNPLUG_AGAIN_SEC) < 0)
        return false;
    return sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(ctx->db) == 1;
}

int
vol_device_used(vm_ctx *ctx, const char *instance_id, const char *dev, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_stmt(ctx->db, &q, err, "SELECT id FROM volumes WHERE instance_id = ? AND device = ?", "tt", instance_id,
                   dev) < 0)
        return -1;
    return sqlite3_step(q) == SQLITE_ROW;
}

void
vol_unplug_again(vm_ctx *ctx, const vol_obj *v)
{
    /* not more often: a Linux guest takes a second press of the slot's button within its 5 s
     * countdown as a cancel, so asking at every reconcile would keep the disk in for ever */
    if (!vol_unplug_due(ctx, v->id, false))
        return;
    char target[8];
    if (vol_device_target(v->device, target, &(vm_error){ 0 }) == 0)
        disk_unplug(ctx, v->instance_id, target);
}

int
vol_disks_of(vm_ctx *ctx, const char *instance_id, vol_disk **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " VOL_COLUMNS " FROM volumes WHERE instance_id = ? ORDER BY device", "t",
                   instance_id) < 0)
        return -1;
    size_t n = 0;
    vol_disk *disks = calloc(25, sizeof(vol_disk));
    if (!disks)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    while (n < 24 && sqlite3_step(st) == SQLITE_ROW) {
        _cleanup_(vol_obj_freep) vol_obj *v = vol_from_row(st);
        char target[8], serial[24];
        vm_error ignore = { 0 };
        if (!v || vol_device_target(v->device, target, &ignore) < 0)
            continue;
        vol_disk_of(v, target, serial, &disks[n]);
        disks[n].path = strdup(v->path);
        disks[n].target = strdup(target);
        disks[n].serial = strdup(serial);
        n++;
    }
    *ret = disks;
    *ret_n = n;
    return 0;
}

void
vol_disks_free(vol_disk *disks, size_t n)
{
    for (size_t i = 0; disks && i < n; i++) {
        free((char *)disks[i].path);
        free((char *)disks[i].target);
        free((char *)disks[i].serial);
    }
    free(disks);
}

static const char volumes_of[] = "SELECT " VOL_COLUMNS " FROM volumes WHERE instance_id = ? ORDER BY device";

int
vol_render_mappings(vm_ctx *ctx, vm_node *list, const char *instance_id, vm_error *err)
{
    sqlite3_stmt *st = vm_ctx_stmt(ctx, volumes_of, err);
    if (!st || vm_db_bind(st, err, "t", instance_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        _cleanup_(vol_obj_freep) vol_obj *v = vol_from_row(st);
        if (!v) {
            sqlite3_reset(st);
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        }
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "deviceName", NULL, v->device);
        vm_node *ebs = vm_node_struct(it, "ebs", NULL);
        vm_node_str(ebs, "volumeId", NULL, v->id);
        vm_node_str(ebs, "status", NULL, v->attach_state);
        vm_node_time(ebs, "attachTime", NULL, v->attach_time);
        vm_node_bool(ebs, "deleteOnTermination", NULL, v->delete_on_termination);
    }
    sqlite3_reset(st);
    return 0;
}

int
vol_set_delete_on_termination(vm_ctx *ctx, const char *instance_id, const char *device, bool on, vm_error *err)
{
    static const char *const roots[] = { "/dev/vda", "/dev/xvda", "/dev/sda1", NULL };
    bool root = false;
    for (const char *const *r = roots; *r; r++)
        root |= strcmp(device, *r) == 0;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE volumes SET delete_on_termination = ?1 WHERE instance_id = ?2 AND state != 'deleted' AND "
                   "(device = ?3 OR (?4 AND id = (SELECT root_volume_id FROM instances WHERE id = ?2)))",
                   "itti", (long long)on, instance_id, device, (long long)root) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving DeleteOnTermination", err);
    if (sqlite3_changes(ctx->db) == 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "No volume is attached to %s at %s", instance_id,
                            device);
    return 0;
}

int
vol_release_all(vm_ctx *ctx, const char *instance_id, vm_error *err)
{
    /* volumes marked DeleteOnTermination go with the instance (its lock is held: the volume's comes
     * second, as everywhere); the others become available */
    _cleanup_stmt_ sqlite3_stmt *doomed = NULL;
    if (vm_db_stmt(ctx->db, &doomed, err,
                   "SELECT id, path FROM volumes WHERE instance_id = ? AND delete_on_termination", "t",
                   instance_id) < 0)
        return -1;
    while (sqlite3_step(doomed) == SQLITE_ROW) {
        char id[VM_ID_MAX];
        snprintf(id, sizeof(id), "%s", vm_db_text(doomed, 0));
        int vfd = vol_lock(ctx, id, false, err);
        if (vfd < 0)
            return -1;
        int rc = vol_update(ctx, id, "deleting", NULL, NULL, NULL, err);
        if (rc == 0 && unlink(vm_db_text(doomed, 1)) < 0 && errno != ENOENT)
            rc = vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot remove '%s'", vm_db_text(doomed, 1));
        if (rc == 0)
            rc = vol_update(ctx, id, "deleted", NULL, NULL, NULL, err);
        vm_lock_release(vfd);
        if (rc < 0)
            return -1;
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE volumes SET state = 'available', instance_id = NULL, device = NULL, "
                   "attach_state = NULL, attach_time = NULL WHERE instance_id = ?",
                   "t", instance_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "releasing volumes", err);
    return 0;
}

