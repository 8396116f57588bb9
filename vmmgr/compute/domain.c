/* The libvirt side of an instance: define, start, tear down.  Each step is idempotent, so a
 * launch or a terminate interrupted anywhere can simply be run again. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../images/catalog.h"
#include "../../net/net.h"
#include "../../storage/cidata.h"
#include "../../storage/disk.h"
#include "../../storage/overlay.h"
#include "../../storage/volume.h"
#include "../core/cleanup.h"
#include "../core/conn.h"
#include "../core/lock.h"
#include "domxml.h"
#include "instance.h"
#include "keypair.h"
#include "types.h"

VM_DEFINE_CLEANUP(virDomainPtr, virDomainFree)

int
inst_lock(vm_ctx *ctx, const char *id, bool nonblock, vm_error *err)
{
    return vm_ctx_lock(ctx, id, nonblock, err);
}


void
inst_cidata_path(vm_ctx *ctx, const inst_obj *inst, char *buf, size_t len)
{
    snprintf(buf, len, "%s/instances/%s/cidata.iso", ctx->state_dir, inst->id);
}

/* meta-data and user-data for the instance's NoCloud config drive */
static int
write_cidata(vm_ctx *ctx, const inst_obj *inst, vm_error *err)
{
    _cleanup_free_ char *pub = NULL;
    if (inst->key_name[0] && !(pub = kp_public_key(ctx, inst->key_name, err)))
        return -1;
    /* as on EC2: the host name is the private DNS name (ip-172-31-0-12.<region>.compute.internal) */
    char ip[NET_ADDR_MAX], host[128];
    if (net_instance_ip(ctx, inst->id, ip, err) < 0)
        return -1;
    snprintf(host, sizeof(host), "%s", inst->id);
    if (ip[0]) {
        snprintf(host, sizeof(host), "ip-%s.%s.compute.internal", ip, ctx->region);
        for (char *c = host; *c && c < host + 3 + strlen(ip); c++)
            if (*c == '.')
                *c = '-';
    }
    _cleanup_free_ char *meta = NULL;
    if (asprintf(&meta, "instance-id: %s\nlocal-hostname: %s\n%s%s%s", inst->id, host,
                 pub ? "public-keys:\n  - " : "", pub ? pub : "", pub ? "\n" : "") < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    size_t b64 = strlen(inst->user_data);
    _cleanup_free_ unsigned char *ud = malloc(b64 + 1);
    int n = 0;
    if (!ud)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (b64) {
        n = EVP_DecodeBlock(ud, (const unsigned char *)inst->user_data, (int)b64);
        if (n < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "stored user data of '%s' is not base64", inst->id);
        n -= (b64 >= 1 && inst->user_data[b64 - 1] == '=') + (b64 >= 2 && inst->user_data[b64 - 2] == '=');
    }
    cidata_file files[] = {
        { "meta-data", meta, strlen(meta) },
        { "user-data", ud, (size_t)n },
    };
    char path[4096];
    inst_cidata_path(ctx, inst, path, sizeof(path));
    return cidata_write(path, files, 2, err);
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
    char cidata[4096];
    inst_cidata_path(ctx, inst, cidata, sizeof(cidata));
    inst_disk *disks = NULL;
    size_t ndisks = 0;
    long root_iops, root_bps;
    vol_limits(ctx, inst->root_volume_id, &root_iops, &root_bps);
    if (vol_disks_of(ctx, inst->id, &disks, &ndisks, err) < 0)
        return -1;
    /* where the guest finds its metadata (tag vmmgr:datasource): the config drive, the metadata
     * service (the domain says it is an EC2 instance), or both */
    char source[16];
    inst_datasource(ctx, inst->id, source);
    /* an existing domain keeps its UUID (libvirt refuses another for the same name); a new one
     * gets an EC2-shaped one */
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    _cleanup_(virDomainFreep) virDomainPtr old = virDomainLookupByName(conn, inst->id);
    if (!old || virDomainGetUUIDString(old, uuid) < 0)
        inst_ec2_uuid(inst->id, uuid);
    inst_domain_def def = {
        .id = inst->id,
        .uuid = uuid,
        .ec2_smbios = strcmp(source, "config-drive") != 0 && strncmp(uuid, "ec2", 3) == 0,
        .reservation_id = inst->reservation_id,
        .image_id = inst->image_id,
        .instance_type = inst->instance_type,
        .root_volume_id = inst->root_volume_id[0] ? inst->root_volume_id : NULL,
        .state_dir = ctx->state_dir,
        .vcpus = t->vcpus,
        .memory_mib = t->memory_mib,
        .kvm = strcmp(ctx->accel, "kvm") == 0,
        .uefi = strcmp(img->boot, "uefi") == 0,
        .kernel = img->kernel_path,
        .initrd = img->initrd_path,
        .disk_path = inst->disk_path,
        .root_iops = root_iops,
        .root_bps = root_bps,
        .config_drive = strcmp(source, "imds") != 0 ? cidata : NULL,
        .console_path = inst->console_path,
        .disks = disks,
        .ndisks = ndisks,
    };
    net_nic nic;
    int has_nic = net_instance_nic(ctx, inst->id, &nic, err);
    if (has_nic < 0) {
        vol_disks_free(disks, ndisks);
        return -1;
    }
    if (has_nic) {
        def.nic_network = nic.network;
        def.nic_mac = nic.mac;
        def.nic_tap = nic.tap;
        def.nic_ip = nic.ip;
        def.subnet_id = nic.subnet_id;
    }
    _cleanup_free_ char *xml = inst_domxml_build(&def, err);
    vol_disks_free(disks, ndisks);
    if (!xml)
        return -1;
    /* no VIR_DOMAIN_DEFINE_VALIDATE: libvirtd's RNG pass costs every launch 20-30 ms; the builder's
     * output is checked against the schema in tests/unit/domxml_schema.sh instead */
    _cleanup_(virDomainFreep) virDomainPtr d = virDomainDefineXML(conn, xml);
    if (!d)
        return vm_error_from_virt(err, "defining domain '%s'", inst->id);
    return 0;
}

static int
inst_dir(vm_ctx *ctx, const inst_obj *inst, vm_error *err)
{
    char vols[4096];
    snprintf(vols, sizeof(vols), "%s/volumes", ctx->state_dir);
    if (mkdir(vols, 0755) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", vols);
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
    vm_trace("launch %s: libvirt connected", inst->id);
    if (inst->launch_step < INST_STEP_DISK) {
        _cleanup_(img_obj_freep) img_obj *img = NULL;
        struct stat st;
        if (img_get(ctx, inst->image_id, &img, err) < 0 || inst_dir(ctx, inst, err) < 0)
            return -1;
        /* a file left by an interrupted create may be partial: make it again */
        if (lstat(inst->disk_path, &st) == 0 && vol_file_remove(inst->disk_path, err) < 0)
            return -1;
        if (vol_overlay_create(img->base_path, "qcow2", inst->disk_path, inst->root_size, err) < 0)
            return -1;
        vm_trace("launch %s: overlay made", inst->id);
        if (write_cidata(ctx, inst, err) < 0)
            return -1;
        vm_trace("launch %s: config drive written", inst->id);
        vm_crash_point("disk");
        if (inst_set_step(ctx, inst->id, INST_STEP_DISK, err) < 0)
            return -1;
        inst->launch_step = INST_STEP_DISK;
        vm_trace("launch %s: disk step committed", inst->id);
    }
    if (inst->launch_step < INST_STEP_DEFINED) {
        _cleanup_(virDomainFreep) virDomainPtr d = vm_domain_find(conn, inst->id, err);
        if (vm_error_is_set(err))
            return -1;
        /* the subnet's network with this address's DHCP entry, and the filters, before the domain */
        if (net_instance_prepare(ctx, inst->id, err) < 0)
            return -1;
        vm_trace("launch %s: network prepared", inst->id);
        if (!d && inst_define(ctx, inst, err) < 0)
            return -1;
        vm_trace("launch %s: defined", inst->id);
        vm_crash_point("defined");
        if (inst_set_step(ctx, inst->id, INST_STEP_DEFINED, err) < 0)
            return -1;
        inst->launch_step = INST_STEP_DEFINED;
        vm_trace("launch %s: define step committed", inst->id);
    }
    if (inst->launch_step < INST_STEP_STARTED) {
        /* a domain undefined meanwhile is defined again from the record, as for a start */
        if (inst_start_domain(ctx, inst, err) < 0)
            return -1;
        vm_trace("launch %s: started", inst->id);
        vm_crash_point("started");
        if (inst_set_step(ctx, inst->id, INST_STEP_STARTED, err) < 0)
            return -1;
        inst->launch_step = INST_STEP_STARTED;
        vm_trace("launch %s: start step committed", inst->id);
    }
    return 0;
}

int
inst_start_domain(vm_ctx *ctx, const inst_obj *inst, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_(virDomainFreep) virDomainPtr d = vm_domain_find(conn, inst->id, err);
    if (!d && !vm_error_is_set(err) && inst_define(ctx, inst, err) == 0)
        d = vm_domain_find(conn, inst->id, err);
    if (!d) {
        if (!vm_error_is_set(err))
            vm_error_set(err, VM_ERR_INTERNAL, "domain '%s' vanished while it was started", inst->id);
        return -1;
    }
    vm_trace("domain %s: creating", inst->id);
    if (virDomainIsActive(d) != 1 && virDomainCreate(d) < 0)
        return vm_error_from_virt(err, "starting domain '%s'", inst->id);
    vm_trace("domain %s: created", inst->id);
    return 0;
}

int
inst_hibernate_domain(vm_ctx *ctx, const inst_obj *inst, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_(virDomainFreep) virDomainPtr d = vm_domain_find(conn, inst->id, err);
    if (!d)
        return vm_error_is_set(err) ? -1 : 0; /* gone: nothing to save */
    if (virDomainIsActive(d) == 1 && virDomainManagedSave(d, 0) < 0)
        return vm_error_from_virt(err, "saving domain '%s'", inst->id);
    return 0;
}

int
inst_teardown(vm_ctx *ctx, const inst_obj *inst, bool discard, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_(virDomainFreep) virDomainPtr d = vm_domain_find(conn, inst->id, err);
    if (vm_error_is_set(err))
        return -1;
    if (d) {
        if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
            return vm_error_from_virt(err, "stopping domain '%s'", inst->id);
        if (virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                          VIR_DOMAIN_UNDEFINE_NVRAM) < 0)
            return vm_error_from_virt(err, "undefining domain '%s'", inst->id);
    }
    /* the address is free again and the interface's filter goes */
    if (net_instance_release(ctx, inst->id, err) < 0)
        return -1;
    char cidata[4096];
    inst_cidata_path(ctx, inst, cidata, sizeof(cidata));
    if (vol_root_release(ctx, inst->root_volume_id, inst->disk_path, discard, err) < 0 ||
        vol_file_remove(cidata, err) < 0 || vol_release_all(ctx, inst->id, err) < 0)
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

int
inst_domain_attach_disk(vm_ctx *ctx, const char *iid, const vol_disk *d, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    _cleanup_(virDomainFreep) virDomainPtr dom = conn ? virDomainLookupByName(conn, iid) : NULL;
    if (!dom)
        return vm_error_is_set(err) ? -1 : vm_error_from_virt(err, "looking up domain '%s'", iid);
    /* behind its letter's port, so the guest knows it as the device asked for */
    _cleanup_free_ char *defxml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    _cleanup_free_ char *xml = inst_diskxml_build(d, inst_domxml_has_letter_ports(defxml), err);
    if (!xml)
        return -1;
    unsigned flags = VIR_DOMAIN_AFFECT_CONFIG | (virDomainIsActive(dom) == 1 ? VIR_DOMAIN_AFFECT_LIVE : 0);
    if (virDomainAttachDeviceFlags(dom, xml, flags) < 0)
        return vm_error_from_virt(err, "attaching '%s' to '%s'", d->path, iid);
    return 0;
}

int
inst_domain_detach_disk(vm_ctx *ctx, const char *iid, const vol_disk *d, bool ask, vm_error *err)
{
    _cleanup_free_ char *xml = inst_diskxml_build(d, false, err);
    virConnectPtr conn = xml ? vm_ctx_conn(ctx, err) : NULL;
    if (!conn)
        return -1;
    _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByName(conn, iid);
    if (!dom) {
        virResetLastError(); /* no domain: nothing to unplug */
        return 0;
    }
    _cleanup_free_ char *calias = NULL, *lalias = NULL;
    if (disk_alias(dom, VIR_DOMAIN_XML_INACTIVE, d->target, &calias) == 1 &&
        virDomainDetachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0)
        return vm_error_from_virt(err, "detaching '%s' from the definition of '%s'", d->target, iid);
    if (virDomainIsActive(dom) != 1 || disk_alias(dom, 0, d->target, &lalias) != 1)
        return 0;
    if (ask && (!lalias || virDomainDetachDeviceAlias(dom, lalias, VIR_DOMAIN_AFFECT_LIVE) < 0))
        virResetLastError();
    return 1;
}

int
inst_redefine(vm_ctx *ctx, const inst_obj *inst, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_(virDomainFreep) virDomainPtr d = vm_domain_find(conn, inst->id, err);
    if (vm_error_is_set(err))
        return -1;
    if (d && virDomainUndefine(d) < 0)
        return vm_error_from_virt(err, "undefining domain '%s'", inst->id);
    return inst_define(ctx, inst, err);
}

/* The domain of id; InternalError when it has none (reconcile defines it again). */
static virDomainPtr
domain_of(vm_ctx *ctx, const char *id, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    virDomainPtr d = conn ? vm_domain_find(conn, id, err) : NULL;
    if (!d && !vm_error_is_set(err))
        vm_error_set(err, VM_ERR_INTERNAL, "instance '%s' has no domain; run any command to repair it", id);
    return d;
}

int
inst_domain_running(vm_ctx *ctx, const char *id, vm_error *err)
{
    _cleanup_(virDomainFreep) virDomainPtr d = domain_of(ctx, id, err);
    if (!d)
        return -1;
    return virDomainIsActive(d) == 1;
}

typedef enum { BUTTON_OFF, BUTTON_SHUTDOWN, BUTTON_REBOOT } button;

static int
press(vm_ctx *ctx, const char *id, button b, vm_error *err)
{
    _cleanup_(virDomainFreep) virDomainPtr d = domain_of(ctx, id, err);
    if (!d)
        return -1;
    switch (b) {
    case BUTTON_OFF:
        return virDomainDestroy(d) < 0 ? vm_error_from_virt(err, "stopping domain '%s'", id) : 0;
    case BUTTON_SHUTDOWN:
        return virDomainShutdown(d) < 0 ? vm_error_from_virt(err, "shutting down domain '%s'", id) : 0;
    case BUTTON_REBOOT:
        /* ACPI first, as EC2 asks the OS; a guest that ignores it is reset */
        if (virDomainReboot(d, VIR_DOMAIN_REBOOT_ACPI_POWER_BTN) < 0 && virDomainReset(d, 0) < 0)
            return vm_error_from_virt(err, "rebooting domain '%s'", id);
        return 0;
    }
    return 0;
}

int
inst_domain_power_off(vm_ctx *ctx, const char *id, vm_error *err)
{
    return press(ctx, id, BUTTON_OFF, err);
}

int
inst_domain_shutdown(vm_ctx *ctx, const char *id, vm_error *err)
{
    return press(ctx, id, BUTTON_SHUTDOWN, err);
}

int
inst_domain_reboot(vm_ctx *ctx, const char *id, vm_error *err)
{
    return press(ctx, id, BUTTON_REBOOT, err);
}

int
inst_domain_quiesce(vm_ctx *ctx, const char *id, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_(virDomainFreep) virDomainPtr d = virDomainLookupByName(conn, id);
    if (!d)
        return vm_error_from_virt(err, "looking up domain '%s'", id);
    if (virDomainIsActive(d) != 1)
        return 0;
    if (virDomainShutdown(d) < 0)
        return vm_error_from_virt(err, "shutting down '%s'", id);
    for (time_t end = time(NULL) + ctx->stop_timeout; time(NULL) < end && virDomainIsActive(d) == 1;)
        usleep(200 * 1000);
    if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
        return vm_error_from_virt(err, "stopping '%s'", id);
    return 1;
}

int
inst_domain_restart(vm_ctx *ctx, const char *id, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    _cleanup_(virDomainFreep) virDomainPtr d = conn ? virDomainLookupByName(conn, id) : NULL;
    if (!d || virDomainCreate(d) < 0)
        return vm_error_from_virt(err, "starting '%s' again", id);
    return 0;
}
