/* Storage's mechanism layer: libvirt's storage pool of the state dir, and the disks of domains as
 * libvirt sees them.  Desired state in, libvirt out; no SQL here (the records are volume.c's,
 * snapshot.c's and modify.c's, which call these). */
#pragma once

#include <stdbool.h>

#include <libvirt/libvirt.h>

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/error.h"

/* An empty qcow2 volume <id>.qcow2 of size_gib in the pool (the pool made first when libvirt lacks it). */
int disk_pool_create(vm_ctx *ctx, const char *id, long size_gib, vm_error *err);
/* The pool (and its directory) made when libvirt lacks it. */
int disk_pool_ensure(vm_ctx *ctx, vm_error *err);
/* The pool learns of files written beside libvirt (qemu-img convert). */
void disk_pool_refresh(vm_ctx *ctx);
/* Removes <id>.qcow2 through the pool; 0 when the pool does not have it. */
int disk_pool_delete(vm_ctx *ctx, const char *id, vm_error *err);

/* qemu-img on files beside libvirt: a qcow2 copy of the qcow2 src at dst (its progress on the
 * terminal when show), and a qcow2 file grown to size_gib. */
int disk_file_copy(const char *src, const char *dst, bool show, vm_error *err);
int disk_file_grow(const char *path, long size_gib, vm_error *err);

/* Whether domain instance_id runs: 1, 0 (stopped, or no such domain), -1 when libvirt cannot say. */
int disk_domain_live(vm_ctx *ctx, const char *instance_id, vm_error *err);

enum { DISK_IN_CONFIG = 1, DISK_IN_LIVE = 2 };
/* Where the disk whose source is path is in domain instance_id: DISK_IN_CONFIG when its persistent
 * definition has it, DISK_IN_LIVE while the running guest has it (its QEMU still holds the file),
 * 0 when neither, -1 when that cannot be known now (a failed libvirt call is never "gone"). */
int disk_where(vm_ctx *ctx, const char *instance_id, const char *path);

/* The alias of the disk with target in the domain's live (flags 0) or persistent
 * (VIR_DOMAIN_XML_INACTIVE) definition: 1 and *ret_alias (owned, may be NULL for a persistent
 * definition) when it is there, 0 when not, -1 when the definition cannot be read. */
int disk_alias(virDomainPtr dom, unsigned flags, const char *target, char **ret_alias);
/* Asks the running guest of instance_id to let the disk at target go (an asynchronous unplug);
 * nothing when it does not have it. */
void disk_unplug(vm_ctx *ctx, const char *instance_id, const char *target);

/* The running guest's disk at target grows to size_gib (QEMU's block_resize). */
int disk_grow_live(vm_ctx *ctx, const char *instance_id, const char *target, long size_gib, vm_error *err);
/* The disk's I/O limits in the definition, and in the running guest too when it runs; nothing when
 * the domain is gone. */
int disk_set_limits(vm_ctx *ctx, const char *instance_id, const char *target, long iops, long bytes_per_sec,
                    vm_error *err);

/* A point-in-time copy of the running guest's disk at target into path (libvirt's push backup),
 * waited for; progress(opaque, percent) about ten times a second while it runs. */
typedef void (*disk_progress_fn)(void *opaque, int pct);
int disk_backup_live(vm_ctx *ctx, const char *instance_id, const char *target, const char *path,
                     disk_progress_fn progress, void *opaque, vm_error *err);
