/* EBS snapshots: point-in-time qcow2 copies of a volume under <state-dir>/snapshots.  A volume in
 * use by a running guest is copied with libvirt's backup job (QEMU copy-before-write), so the copy
 * is crash-consistent while the guest keeps writing; any other volume with qemu-img convert.
 * Actions CreateSnapshot, DescribeSnapshots, DeleteSnapshot, CopySnapshot. */
#pragma once

#include <stdbool.h>

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/ids.h"
#include "../vmmgr/core/node.h"
#include "../vmmgr/core/filter.h"
#include "../vmmgr/core/tags.h"

/* Typed requests from the EC2 edge (vmmgr/services/ec2/volumes.c).  A copy shows its progress on
 * the terminal when ctx->progress (the CLI, watched by a person). */
int snap_create(vm_ctx *ctx, const char *volume_id, const char *description, const vm_tag *tags, size_t ntags,
                vm_node *resp, vm_error *err);
/* The snapshots named (each must exist; none: all) that pass the filters.  */
int snap_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp,
                  vm_error *err);
int snap_delete(vm_ctx *ctx, const char *id, vm_node *resp, vm_error *err);
/* source_region: NULL, or this host's region. */
int snap_copy(vm_ctx *ctx, const char *source_id, const char *source_region, const char *description, vm_node *resp,
              vm_error *err);

/* Copies pending snapshot id (CreateSnapshot, CopySnapshot) and records the result: the work of
 * the "snapshot" job (vmmgr/core/job.h), or of the request when a person watches (show). */
int snap_finish(vm_ctx *ctx, const char *id, bool show, vm_error *err);

/* Snapshots left pending by a process that died are marked error and their partial file removed. */
void snap_reconcile(vm_ctx *ctx);

/* The completed snapshot id's file and size (GiB): for CreateVolume --snapshot-id. */
int snap_source(vm_ctx *ctx, const char *id, char **ret_path, long *ret_size_gib, vm_error *err);

/* CreateImage: the AMI's base file is also a completed snapshot of the instance's root volume (as an
 * EBS-backed AMI's root is a snapshot); delete-snapshot refuses it while the AMI is registered. */
int snap_record_for_image(vm_ctx *ctx, const char *image_id, const char *volume_id, long size_gib, const char *desc,
                          const char *path, char ret_id[VM_ID_MAX], vm_error *err);
/* 1 with the id (and size) of the snapshot behind image_id, 0 when it has none. */
int snap_of_image(vm_ctx *ctx, const char *image_id, char ret_id[VM_ID_MAX], long *ret_size, vm_error *err);
