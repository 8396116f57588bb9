/* The libvirt side of an instance: define, start, tear down.  Each step is idempotent, so a
 * launch or a terminate interrupted anywhere can simply be run again. */
#include <errno.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../images/catalog.h"
#include "../../storage/overlay.h"
#include "../core/cleanup.h"
#include "../core/lock.h"
#include "domxml.h"
#include "instance.h"
#include "types.h"

VM_DEFINE_CLEANUP(virDomainPtr, virDomainFree)

int
inst_lock(vm_ctx *ctx, const char *id, bool nonblock, vm_error *err)
{
    char dir[4096];
    return vm_lock_take(vm_ctx_path(ctx, dir, sizeof(dir), "locks"), id, nonblock, err);
}

/* The domain of id, or NULL with err untouched when there is none. */
static virDomainPtr
lookup(virConnectPtr conn, const char *id, vm_error *err)
{
    virDomainPtr d = virDomainLookupByName(conn, id);
    if (!d) {
        virErrorPtr e = virGetLastError();
        if (!e || e->code != VIR_ERR_NO_DOMAIN)
            vm_error_from_virt(err, "looking up domain '%s'", id);
        virResetLastError();
    }
    return d;
}

int
inst_define(vm_ctx *ctx, const inst_obj *inst, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_(img_obj_freep) img_obj *img = NULL;
    if (img_get(ctx, inst->image_id, &img, err) < 0)
        return -1;
    const inst_type *t = inst_type_find(inst->instance_type);
    if (!t)
        return vm_error_set(err, VM_ERR_INTERNAL, "instance '%s' has unknown type '%s'", inst->id, inst->instance_type);
    inst_domain_def def = {
        .id = inst->id,
        .reservation_id = inst->reservation_id,
        .image_id = inst->image_id,
        .instance_type = inst->instance_type,
        .state_dir = ctx->state_dir,
        .vcpus = t->vcpus,
        .memory_mib = t->memory_mib,
        .kvm = strcmp(ctx->accel, "kvm") == 0,
        .kernel = img->kernel_path,
        .initrd = img->initrd_path,
        .disk_path = inst->disk_path,
        .console_path = inst->console_path,
    };
    _cleanup_free_ char *xml = inst_domxml_build(&def, err);
    if (!xml)
        return -1;
    _cleanup_(virDomainFreep) virDomainPtr d = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
    if (!d)
        return vm_error_from_virt(err, "defining domain '%s'", inst->id);
    return 0;
}

static int
inst_dir(vm_ctx *ctx, const inst_obj *inst, vm_error *err)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/instances/%s", ctx->state_dir, inst->id);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", dir);
    return 0;
}

int
inst_launch_resume(vm_ctx *ctx, inst_obj *inst, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    if (inst->launch_step < INST_STEP_DISK) {
        _cleanup_(img_obj_freep) img_obj *img = NULL;
        struct stat st;
        if (img_get(ctx, inst->image_id, &img, err) < 0 || inst_dir(ctx, inst, err) < 0)
            return -1;
        /* a file left by an interrupted create may be partial: make it again */
        if (lstat(inst->disk_path, &st) == 0 && vol_file_remove(inst->disk_path, err) < 0)
            return -1;
        if (vol_overlay_create(img->base_path, "qcow2", inst->disk_path, 0, err) < 0)
            return -1;
        vm_crash_point("disk");
        if (inst_set_step(ctx, inst->id, INST_STEP_DISK, err) < 0)
            return -1;
        inst->launch_step = INST_STEP_DISK;
    }
    if (inst->launch_step < INST_STEP_DEFINED) {
        _cleanup_(virDomainFreep) virDomainPtr d = lookup(conn, inst->id, err);
        if (vm_error_is_set(err))
            return -1;
        if (!d && inst_define(ctx, inst, err) < 0)
            return -1;
        vm_crash_point("defined");
        if (inst_set_step(ctx, inst->id, INST_STEP_DEFINED, err) < 0)
            return -1;
        inst->launch_step = INST_STEP_DEFINED;
    }
    if (inst->launch_step < INST_STEP_STARTED) {
        _cleanup_(virDomainFreep) virDomainPtr d = lookup(conn, inst->id, err);
        if (!d) {
            if (!vm_error_is_set(err))
                vm_error_set(err, VM_ERR_INTERNAL, "domain '%s' vanished during launch", inst->id);
            return -1;
        }
        if (virDomainIsActive(d) != 1 && virDomainCreate(d) < 0)
            return vm_error_from_virt(err, "starting domain '%s'", inst->id);
        vm_crash_point("started");
        if (inst_set_step(ctx, inst->id, INST_STEP_STARTED, err) < 0)
            return -1;
        inst->launch_step = INST_STEP_STARTED;
    }
    return 0;
}

int
inst_teardown(vm_ctx *ctx, const inst_obj *inst, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_(virDomainFreep) virDomainPtr d = lookup(conn, inst->id, err);
    if (vm_error_is_set(err))
        return -1;
    if (d) {
        if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
            return vm_error_from_virt(err, "stopping domain '%s'", inst->id);
        if (virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                          VIR_DOMAIN_UNDEFINE_NVRAM) < 0)
            return vm_error_from_virt(err, "undefining domain '%s'", inst->id);
    }
    if (vol_file_remove(inst->disk_path, err) < 0)
        return -1;
    /* the console log goes with the instance directory; the record keeps what describe needs */
    if (vol_file_remove(inst->console_path, err) < 0)
        return -1;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/instances/%s", ctx->state_dir, inst->id);
    if (rmdir(dir) < 0 && errno != ENOENT)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot remove '%s'", dir);
    return 0;
}
