/* EBS volumes: qcow2 files in a libvirt directory pool that vmmgr owns (<state-dir>/volumes,
 * created on demand as a transient pool so no stale definition outlives its state dir), hotplugged
 * into instances as virtio disks with their type's I/O limits.
 * Actions CreateVolume, DescribeVolumes, DeleteVolume, AttachVolume, DetachVolume. */
#pragma once

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/node.h"
#include "../vmmgr/core/filter.h"
#include "../vmmgr/core/tags.h"

/* A volume attached to a domain as a virtio disk, with its type's I/O limits (0: none). */
typedef struct vol_disk {
    const char *path;   /* qcow2 */
    const char *target; /* vdb … vdy */
    const char *serial; /* the volume id without its dash, as the guest sees it */
    long iops;
    long bytes_per_sec;
} vol_disk;

/* Typed requests from the EC2 edge (vmmgr/services/ec2/volumes.c), each answering into resp the
 * way EC2 does; DryRunOperation when ctx is a dry run and the request would succeed. */
typedef struct vol_create_req {
    const char *type;          /* NULL: gp3 */
    const char *az;            /* NULL: the host's zone */
    const char *snapshot_id;   /* NULL: an empty volume */
    const char *client_token;  /* NULL: none */
    const char *request;       /* the canonical request, which a retry with the token must repeat */
    long size;                 /* GiB; 0: the snapshot's */
    long iops, throughput;     /* -1: the type's */
    const vm_tag *tags;
    size_t ntags;
} vol_create_req;
int vol_create(vm_ctx *ctx, const vol_create_req *r, vm_node *resp, vm_error *err);
/* The volumes named (each must exist; none: all) that pass the filters. */
int vol_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp, vm_error *err);
int vol_delete(vm_ctx *ctx, const char *volume_id, vm_node *resp, vm_error *err);
/* ModifyVolume (grow, change type, IOPS, throughput; live on an attached volume) and
 * DescribeVolumesModifications. */
typedef struct vol_modify_req {
    const char *volume_id;
    const char *type;      /* NULL: the volume's */
    long size;             /* GiB; 0: the volume's */
    long iops, throughput; /* -1: the new type's (a type given) or the volume's */
} vol_modify_req;
int vol_modify(vm_ctx *ctx, const vol_modify_req *r, vm_node *resp, vm_error *err);
int vol_describe_modifications(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp,
                               vm_error *err);

/* The volumes attached to instance_id as disks for its persistent definition.  *ret (owned, with
 * its strings) is freed with vol_disks_free. */
int vol_disks_of(vm_ctx *ctx, const char *instance_id, vol_disk **ret, size_t *ret_n, vm_error *err);
void vol_disks_free(vol_disk *disks, size_t n);
/* Appends blockDeviceMapping/item for each volume attached to instance_id. */
int vol_render_mappings(vm_ctx *ctx, vm_node *parent, const char *instance_id, vm_error *err);
/* ModifyInstanceAttribute BlockDeviceMapping: whether the volume at device (the root device or an
 * attached one) is deleted when the instance terminates. */
int vol_set_delete_on_termination(vm_ctx *ctx, const char *instance_id, const char *device, bool on, vm_error *err);
/* Records the root volume of a new instance (inside the caller's transaction): attached as
 * /dev/vda, its file an overlay of image_id's base. */
int vol_root_record(vm_ctx *ctx, const char *vol_id, const char *instance_id, const char *path, long size_gib,
                    bool delete_on_termination, const char *image_id, vm_error *err);
/* The instance's root volume at its end: deleted when it is to be deleted on termination or when
 * discard is true, otherwise left available.  path is the file (for records older than root volumes). */
int vol_root_release(vm_ctx *ctx, const char *vol_id, const char *path, bool discard, vm_error *err);
/* The I/O limits of volume id (IOPS, bytes per second); 0 and 0 when it has none or is unknown. */
void vol_limits(vm_ctx *ctx, const char *id, long *ret_iops, long *ret_bps);
/* Whether a volume (not deleted) is still an overlay of image_id: 1 and its id, 0 when none. */
int vol_uses_image(vm_ctx *ctx, const char *image_id, char ret_id[32], vm_error *err);
/* Repairs volumes and snapshots that a killed process left half-way (creating, attaching,
 * detaching, deleting; pending snapshots).  Volumes locked by a live operation are left alone. */
void vol_reconcile(vm_ctx *ctx);
/* The instance is gone: its volumes are detached (they outlive it, as EBS data volumes do). */
int vol_release_all(vm_ctx *ctx, const char *instance_id, vm_error *err);
