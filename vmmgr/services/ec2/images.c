/* AMIs on the wire: DescribeImages, ImportImage (the CLI's only), DeregisterImage and CreateImage
 * parsed into the typed calls of images/ (images/catalog.h) and, for CreateImage and the instances
 * that keep an image, compute (compute/create_image.c), which answer as EC2 does. */
#include <stdlib.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../../images/catalog.h"
#include "../../compute/instance.h"
#include "ec2.h"

int
ec2_describe_images(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL, **owners = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "ImageId", &ids, &nids, err) < 0 || vm_params_list(p, "Owner", &owners, NULL, err) < 0 ||
        vm_filters_parse(p, "DescribeImages", &fs, err) < 0)
        return -1;
    return img_describe(ctx, ids, nids, owners, fs, resp, err);
}

int
ec2_import_image(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    img_import_req r = {
        .url = vm_params_require(p, "DiskContainer.1.Url", err),
        .format = vm_params_get(p, "DiskContainer.1.Format"),
        .name = vm_params_get(p, "Name"),
        .description = vm_params_get(p, "Description"),
        .architecture = vm_params_get(p, "Architecture"),
        .boot_mode = vm_params_get(p, "BootMode"),
        .kernel = vm_params_get(p, "KernelFile"),
        .initrd = vm_params_get(p, "RamdiskFile"),
    };
    return r.url ? img_import(ctx, &r, resp, err) : -1;
}

int
ec2_deregister_image(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "ImageId", err);
    char iid[VM_ID_MAX];
    int used = id ? inst_using_image(ctx, id, iid, err) : -1;
    if (used < 0)
        return -1;
    /* every instance's root disk is an overlay of this base: it must stay while one exists */
    if (used)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "image '%s' is used by instance '%s'", id, iid);
    return img_deregister(ctx, id, resp, err);
}

int
ec2_create_image(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *iid = vm_params_require(p, "InstanceId", err);
    bool no_reboot;
    if (!iid || vm_params_bool(p, "NoReboot", false, &no_reboot, err) < 0)
        return -1;
    return inst_create_image(ctx, iid, vm_params_get(p, "Name"), vm_params_get(p, "Description"), no_reboot, resp,
                             err);
}
