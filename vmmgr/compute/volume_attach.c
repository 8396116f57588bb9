/* AttachVolume and DetachVolume: an EBS volume (storage/) hotplugged into an instance's domain or
 * unplugged from it.  The instance's lock, then the volume's; the store says the intent first
 * (attaching, detaching), and reconcile settles it from the domain's definition if the process
 * dies.  An instance operation over storage's records (storage/volume_priv.h), so compute's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/lock.h"
#include "../../net/net.h"
#include "../../storage/volume.h"
#include "../../storage/volume_priv.h"
#include "domxml.h"
#include "instance.h"

/* The instance's lock, then the volume's (always in that order, so two operations never deadlock). */
static int
lock_both(vm_ctx *ctx, const char *iid, const char *vid, int *ret_fd, int *ret_vfd, vm_error *err)
{
    if ((*ret_fd = inst_lock(ctx, iid, false, err)) < 0)
        return -1;
    if ((*ret_vfd = vol_lock(ctx, vid, false, err)) < 0) {
        vm_lock_release(*ret_fd);
        return -1;
    }
    return 0;
}

/* What AttachVolume requires of the volume, the instance and the device, read from the store into
 * *ret_v and *ret_in: checked once for the answer, and again under the locks, since another attach
 * may have taken the volume or the device in between. */
static int
attach_check(vm_ctx *ctx, const char *vid, const char *iid, const char *dev, vol_obj **ret_v, inst_obj **ret_in,
             vm_error *err)
{
    vol_obj_free(*ret_v);
    inst_obj_free(*ret_in);
    *ret_v = NULL;
    *ret_in = NULL;
    if (vol_get(ctx, vid, ret_v, err) < 0 || inst_get(ctx, iid, ret_in, err) < 0)
        return -1;
    if ((*ret_v)->instance_id || strcmp((*ret_v)->state, "available") != 0)
        return vm_error_set(err, VM_ERR_VOLUME_IN_USE, "%s is already attached to an instance", vid);
    if ((*ret_in)->state != INST_RUNNING && (*ret_in)->state != INST_STOPPED)
        return vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE, "Instance '%s' is not 'running' or 'stopped'", iid);
    char zone[40];
    net_instance_zone(ctx, iid, zone);
    if (strcmp(zone, (*ret_v)->az) != 0)
        return vm_error_set(err, VM_ERR_VOLUME_ZONE_MISMATCH,
                            "The volume '%s' is not in the same availability zone as instance '%s'", vid, iid);
    int used = vol_device_used(ctx, iid, dev, err);
    if (used < 0)
        return -1;
    if (used)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Invalid value '%s' for unixDevice. Attachment point %s is already in use", dev, dev);
    return 0;
}

int
inst_attach_volume(vm_ctx *ctx, const char *vid, const char *iid, const char *dev, vm_node *resp, vm_error *err)
{
    _cleanup_(vol_obj_freep) vol_obj *v = NULL;
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    char target[8];
    if (vol_device_target(dev, target, err) < 0 || attach_check(ctx, vid, iid, dev, &v, &in, err) < 0)
        return -1;
    if (ctx->dry_run)
        return vm_error_dry_run(err);

    int fd, vfd;
    if (lock_both(ctx, iid, vid, &fd, &vfd, err) < 0)
        return -1;
    if (attach_check(ctx, vid, iid, dev, &v, &in, err) < 0) {
        vm_lock_release(vfd);
        vm_lock_release(fd);
        return -1;
    }
    /* intent: attaching; reconcile settles it from the domain's definition if we die */
    int rc = vol_update(ctx, vid, "in-use", iid, dev, "attaching", err);
    vm_crash_point("volume-attaching");
    if (rc == 0) {
        char serial[24];
        vol_disk d;
        vol_disk_of(v, target, serial, &d);
        rc = inst_domain_attach_disk(ctx, iid, &d, err);
        if (rc == 0)
            vm_crash_point("volume-attached");
    }
    if (rc == 0)
        rc = vol_update(ctx, vid, "in-use", iid, dev, "attached", err);
    else {
        vm_error ignore = { 0 };
        vol_update(ctx, vid, "available", NULL, NULL, NULL, &ignore);
    }
    vm_lock_release(vfd);
    vm_lock_release(fd);
    if (rc < 0)
        return -1;
    _cleanup_(vol_obj_freep) vol_obj *now = NULL;
    if (vol_get(ctx, vid, &now, err) < 0)
        return -1;
    vol_render_attachment(resp, now);
    return 0;
}

int
inst_detach_volume(vm_ctx *ctx, const char *vid, const char *iid, const char *dev, bool force, vm_node *resp, vm_error *err)
{
    _cleanup_(vol_obj_freep) vol_obj *v = NULL;
    if (vol_get(ctx, vid, &v, err) < 0)
        return -1;
    if (!v->instance_id)
        return vm_error_set(err, VM_ERR_INCORRECT_STATE, "Volume '%s' is in the 'available' state.", vid);
    if (strcmp(v->device, "/dev/vda") == 0)
        return vm_error_set(err, VM_ERR_OPERATION_NOT_PERMITTED,
                            "Volume '%s' is the root device of '%s': terminate the instance to free it", vid,
                            v->instance_id);
    if ((iid && strcmp(iid, v->instance_id) != 0) || (dev && strcmp(dev, v->device) != 0))
        return vm_error_set(err, VM_ERR_ATTACHMENT_NOT_FOUND, "No attachment of '%s' matches", vid);
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    char target[8];
    if (vol_device_target(v->device, target, err) < 0)
        return -1;
    char owner[VM_ID_MAX];
    snprintf(owner, sizeof(owner), "%s", v->instance_id);
    int fd, vfd;
    if (lock_both(ctx, owner, vid, &fd, &vfd, err) < 0)
        return -1;
    /* another detach (or a forced one) may have let it go in between */
    vol_obj_free(v);
    v = NULL;
    if (vol_get(ctx, vid, &v, err) < 0 || !v->instance_id || strcmp(v->instance_id, owner) != 0) {
        vm_lock_release(vfd);
        vm_lock_release(fd);
        return vm_error_is_set(err) ? -1
                                    : vm_error_set(err, VM_ERR_INCORRECT_STATE, "Volume '%s' is in the 'available' state.",
                                                   vid);
    }
    /* No request waits on a guest: the persistent definition loses the disk at once, the running
     * guest is asked to let it go (an asynchronous unplug), and the answer is "detaching".  The
     * volume becomes available when the guest has let go: libvirt's device-removed event wakes the
     * daemon's reconcile, and every reconcile checks (vol_reconcile).  A repeated DetachVolume asks
     * the guest again; Force makes the volume available without waiting for the guest. */
    bool pending = false;
    /* libvirt out of reach: refused before the volume says detaching (the disk stays attached) */
    if (!vm_ctx_conn(ctx, err)) {
        vm_lock_release(vfd);
        vm_lock_release(fd);
        return -1;
    }
    int rc = vol_update(ctx, vid, "in-use", owner, v->device, "detaching", err);
    if (rc == 0) {
        char serial[24];
        vol_disk d;
        vol_disk_of(v, target, serial, &d);
        /* a repeated DetachVolume asks the guest again only as often as reconcile does */
        bool again = v->attach_state && strcmp(v->attach_state, "detaching") == 0;
        int live = inst_domain_detach_disk(ctx, owner, &d, vol_unplug_due(ctx, vid, !again), err);
        if (live < 0)
            rc = -1;
        pending = live == 1;
    }
    if (rc == 0 && (!pending || force))
        rc = vol_update(ctx, vid, "available", NULL, NULL, NULL, err);
    vm_lock_release(vfd);
    vm_lock_release(fd);
    if (rc < 0)
        return -1;
    free(v->attach_state);
    v->attach_state = strdup("detaching");
    vol_render_attachment(resp, v);
    return 0;
}
