#include "init.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../images/catalog.h"
#include "../net/net.h"
#include "compute/accel.h"
#include "core/cleanup.h"

#define PROBE_TIMEOUT_SEC 15

static int
ensure_config(vm_ctx *ctx, const char *key, const char *value, vm_error *err)
{
    _cleanup_free_ char *v = vm_config_get(ctx, key);
    return v ? 0 : vm_config_set(ctx, key, value, err);
}

int
vm_init(vm_ctx *ctx, const char *accel, const char *vpc_cidr, char *warning, size_t warnlen, char ret_image_id[32],
        vm_error *err)
{
    warning[0] = '\0';
    if (strcmp(accel, "auto") != 0 && strcmp(accel, "kvm") != 0 && strcmp(accel, "tcg") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "accelerator '%s' is not one of auto, kvm, tcg",
                            accel);

    /* an account id of twelve digits, as EC2's owner ids are */
    uuid_t u;
    uuid_generate_random(u);
    char account[16];
    snprintf(account, sizeof(account), "%012llu",
             (unsigned long long)(((unsigned long long)u[0] << 32 | (unsigned long long)u[1] << 24 | u[2] << 16 |
                                   u[3] << 8 | u[4]) %
                                  1000000000000ULL));
    if (ensure_config(ctx, "account_id", account, err) < 0 || ensure_config(ctx, "region", "us-east-1", err) < 0 ||
        ensure_config(ctx, "availability_zone", "us-east-1a", err) < 0)
        return -1;

    if (img_tiny_ensure(ctx, ret_image_id, err) < 0)
        return -1;
    /* as EC2 gives every account one: instances launched without a subnet land there */
    if (net_default_vpc_ensure(ctx, vpc_cidr, err) < 0)
        return -1;

    if (strcmp(accel, "auto") != 0)
        return vm_config_set(ctx, "accel", accel, err);
    if (vm_ctx_initialized(ctx))
        return 0; /* probed before: keep the choice */

    _cleanup_(img_obj_freep) img_obj *img = NULL;
    if (img_get(ctx, ret_image_id, &img, err) < 0)
        return -1;
    char why[512] = "";
    int ok = inst_accel_probe(ctx, img->kernel_path, img->initrd_path, PROBE_TIMEOUT_SEC, why, sizeof(why), err);
    if (ok < 0)
        return -1;
    if (!ok)
        snprintf(warning, warnlen, "KVM is not usable, falling back to TCG software emulation: %s", why);
    return vm_config_set(ctx, "accel", ok ? "kvm" : "tcg", err);
}
