#include "init.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../images/catalog.h"
#include "../net/net.h"
#include "compute/accel.h"
#include "core/cleanup.h"
#include "core/db.h"

#define PROBE_TIMEOUT_SEC 15

static int
ensure_config(vm_ctx *ctx, const char *key, const char *value, vm_error *err)
{
    _cleanup_free_ char *v = vm_config_get(ctx, key);
    return v ? 0 : vm_config_set(ctx, key, value, err);
}

/* How many subnets and volumes are in zone. */
static long
zone_use(vm_ctx *ctx, const char *zone)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT (SELECT count(*) FROM subnets WHERE az = ?1) + (SELECT count(*) FROM volumes WHERE az = ?1 "
                   "AND state != 'deleted')",
                   "t", zone) < 0)
        return -1;
    return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
}

/* The region's zones: those given (comma-separated), else those recorded, else the region's a, b
 * and c (a state dir from before zones keeps its one zone first).  A zone that still has subnets
 * or volumes is not removed. */
static int
set_zones(vm_ctx *ctx, const char *given, vm_error *err)
{
    _cleanup_free_ char *have = vm_config_get(ctx, "availability_zones");
    if (!given && have)
        return 0;
    char list[VM_MAX_ZONES * 42] = "";
    if (given) {
        size_t n = 0;
        char names[VM_MAX_ZONES][40];
        for (const char *z = given; *z;) {
            size_t len = strcspn(z, ",");
            size_t rl = strlen(ctx->region);
            if (n == VM_MAX_ZONES)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "At most %d availability zones", VM_MAX_ZONES);
            if (len != rl + 1 || strncmp(z, ctx->region, rl) != 0 || z[rl] < 'a' || z[rl] > 'z')
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                    "Availability zone '%.*s' is not the region %s followed by a letter (%sa)", (int)len,
                                    z, ctx->region, ctx->region);
            snprintf(names[n], sizeof(names[n]), "%.*s", (int)len, z);
            for (size_t j = 0; j < n; j++)
                if (strcmp(names[j], names[n]) == 0)
                    return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Availability zone %s is given twice",
                                        names[n]);
            n++;
            z += len + (z[len] == ',');
        }
        if (n == 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "At least one availability zone is required");
        for (size_t i = 0; i < ctx->nzones; i++) {
            bool kept = false;
            for (size_t j = 0; j < n; j++)
                kept |= strcmp(names[j], ctx->zones[i]) == 0;
            if (!kept && zone_use(ctx, ctx->zones[i]) != 0)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                    "Availability zone %s still has subnets or volumes: it cannot be removed",
                                    ctx->zones[i]);
        }
        for (size_t i = 0; i < n; i++)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? "," : "", names[i]);
    } else {
        /* the state dir's one zone first, then the region's a, b, c */
        snprintf(list, sizeof(list), "%s", ctx->az);
        for (char l = 'a'; l <= 'c'; l++) {
            char z[40];
            snprintf(z, sizeof(z), "%s%c", ctx->region, l);
            if (strcmp(z, ctx->az) != 0)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), ",%s", z);
        }
    }
    if (vm_config_set(ctx, "availability_zones", list, err) < 0)
        return -1;
    vm_ctx_load_config(ctx);
    return 0;
}

int
vm_init(vm_ctx *ctx, const char *accel, const char *vpc_cidr, const char *zones, char *warning, size_t warnlen,
        char ret_image_id[32], vm_error *err)
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
        ensure_config(ctx, "availability_zone", "us-east-1a", err) < 0 || set_zones(ctx, zones, err) < 0)
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
