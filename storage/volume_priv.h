/* Storage's volume records and the disk plumbing under them, shared by the volume files (volume.c:
 * records, create, describe, delete, root volumes, reconcile; attach.c: disks of instances;
 * modify.c: ModifyVolume) and by compute's AttachVolume and DetachVolume
 * (vmmgr/compute/volume_attach.c), the one user outside storage/. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/ids.h"
#include "../vmmgr/core/node.h"
#include "volume.h"

#define MIB (1024L * 1024L)

/* An EBS volume type: default and maximum IOPS and throughput (MiB/s) that become libvirt I/O limits */
typedef struct vol_type {
    const char *name;
    long iops, max_iops, mibps;
    bool iops_given; /* the type takes a requested IOPS (io1, io2) */
} vol_type;

const vol_type *vol_type_find(const char *name);

typedef struct vol_obj {
    char id[VM_ID_MAX];
    long size_gib, iops, throughput;
    char type[16], state[16];
    char *path, *client_token, *instance_id, *device, *attach_state, *snapshot_id;
    time_t created_at, attach_time;
    bool delete_on_termination;
    char az[40];
} vol_obj;

void vol_obj_free(vol_obj *v);
VM_DEFINE_CLEANUP(vol_obj *, vol_obj_free)

#define VOL_COLUMNS                                                                                           \
    "id, size_gib, type, iops, throughput, state, path, client_token, created_at, instance_id, device, "       \
    "attach_state, attach_time, snapshot_id, delete_on_termination, az"

/* The volume's lock, held by every operation on it; it dies with its process. */
int vol_lock(vm_ctx *ctx, const char *id, bool nonblock, vm_error *err);
vol_obj *vol_from_row(sqlite3_stmt *st);
/* InvalidVolumeID.Malformed, InvalidVolume.NotFound */
int vol_get(vm_ctx *ctx, const char *id, vol_obj **ret, vm_error *err);
int vol_update(vm_ctx *ctx, const char *id, const char *state, const char *instance, const char *device,
               const char *attach_state, vm_error *err);
void vol_render_attachment(vm_node *it, const vol_obj *v);
/* /dev/sdf, /dev/xvdf or /dev/vdf → "vdf"; b to y (a is the root, z the config drive) */
int vol_device_target(const char *dev, char target[8], vm_error *err);

/* Asks the running guest again to let a detaching volume go: an unplug requested before the guest
 * could answer (early in its boot) is lost, and QEMU takes a new request after the last expired. */
void vol_unplug_again(vm_ctx *ctx, const vol_obj *v);

/* For compute's AttachVolume and DetachVolume (vmmgr/compute/volume_attach.c), besides the records
 * above: the disk of volume v at target, its serial (the id without the dash) written into serial;
 * whether the guest may be asked to let the volume go now (recorded: not again within 10 s unless
 * force); and whether another volume of instance_id is at dev (1), or none (0). */
void vol_disk_of(const vol_obj *v, const char *target, char serial[24], vol_disk *d);
bool vol_unplug_due(vm_ctx *ctx, const char *id, bool force);
int vol_device_used(vm_ctx *ctx, const char *instance_id, const char *dev, vm_error *err);
