/* EBS on the wire: Create/Describe/Delete/Attach/Detach/ModifyVolume, DescribeVolumesModifications
 * and Create/Describe/Delete/CopySnapshot parsed into storage/'s typed calls (storage/volume.h,
 * storage/snapshot.h), which answer as EC2 does. */
#include <stdlib.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../core/tags.h"
#include "../../../storage/snapshot.h"
#include "../../../storage/volume.h"
#include "../../compute/instance.h"
#include "ec2.h"

int
ec2_create_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    static const char *const skip[] = { "ClientToken", "DryRun", NULL };
    _cleanup_free_ char *request = vm_params_canonical(p, skip);
    vol_create_req r = {
        .type = vm_params_get(p, "VolumeType"),
        .az = vm_params_get(p, "AvailabilityZone"),
        .snapshot_id = vm_params_get(p, "SnapshotId"),
        .client_token = vm_params_get(p, "ClientToken"),
        .request = request,
    };
    vm_tag *tags = NULL;
    /* Iops' upper bound is the type's: storage checks it */
    if (vm_params_int(p, "Size", 0, 1, 16384, &r.size, err) < 0 || vm_params_int(p, "Iops", -1, 0, 1000000, &r.iops, err) < 0 ||
        vm_params_int(p, "Throughput", -1, 125, 1000, &r.throughput, err) < 0 ||
        vm_tags_from_spec(p, "volume", &tags, &r.ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    r.tags = owned;
    return vol_create(ctx, &r, resp, err);
}

int
ec2_describe_volumes(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "VolumeId", &ids, &nids, err) < 0 || vm_filters_parse(p, "DescribeVolumes", &fs, err) < 0)
        return -1;
    return vol_describe(ctx, ids, nids, fs, resp, err);
}

int
ec2_delete_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "VolumeId", err);
    return id ? vol_delete(ctx, id, resp, err) : -1;
}

int
ec2_attach_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *vid = vm_params_require(p, "VolumeId", err);
    const char *iid = vid ? vm_params_require(p, "InstanceId", err) : NULL;
    const char *dev = iid ? vm_params_require(p, "Device", err) : NULL;
    return dev ? inst_attach_volume(ctx, vid, iid, dev, resp, err) : -1;
}

int
ec2_detach_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *vid = vm_params_require(p, "VolumeId", err);
    bool force;
    if (!vid || vm_params_bool(p, "Force", false, &force, err) < 0)
        return -1;
    return inst_detach_volume(ctx, vid, vm_params_get(p, "InstanceId"), vm_params_get(p, "Device"), force, resp,
                              err);
}

int
ec2_modify_volume(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    vol_modify_req r = { .volume_id = vm_params_require(p, "VolumeId", err), .type = vm_params_get(p, "VolumeType") };
    if (!r.volume_id || vm_params_int(p, "Size", 0, 1, 16384, &r.size, err) < 0 ||
        vm_params_int(p, "Iops", -1, 0, 1000000, &r.iops, err) < 0 ||
        vm_params_int(p, "Throughput", -1, 125, 1000, &r.throughput, err) < 0)
        return -1;
    return vol_modify(ctx, &r, resp, err);
}

int
ec2_describe_volumes_modifications(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "VolumeId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeVolumesModifications", &fs, err) < 0)
        return -1;
    return vol_describe_modifications(ctx, ids, nids, fs, resp, err);
}

int
ec2_create_snapshot(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *vid = vm_params_require(p, "VolumeId", err);
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (!vid || vm_tags_from_spec(p, "snapshot", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    return snap_create(ctx, vid, vm_params_get(p, "Description"), owned, ntags, resp, err);
}

int
ec2_describe_snapshots(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    /* Owner (self, an account, amazon): every snapshot here is the account's own */
    _cleanup_free_ const char **ids = NULL, **owners = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "SnapshotId", &ids, &nids, err) < 0 || vm_params_list(p, "Owner", &owners, NULL, err) < 0 ||
        vm_filters_parse(p, "DescribeSnapshots", &fs, err) < 0)
        return -1;
    return snap_describe(ctx, ids, nids, fs, resp, err);
}

int
ec2_delete_snapshot(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "SnapshotId", err);
    return id ? snap_delete(ctx, id, resp, err) : -1;
}

int
ec2_copy_snapshot(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *src = vm_params_require(p, "SourceSnapshotId", err);
    return src ? snap_copy(ctx, src, vm_params_get(p, "SourceRegion"), vm_params_get(p, "Description"), resp, err)
               : -1;
}
