#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/snapshot.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/filter.h"
#include "../vmmgr/core/tags.h"

void
img_obj_free(img_obj *img)
{
    if (!img)
        return;
    free(img->name);
    free(img->description);
    free(img->state);
    free(img->boot);
    free(img->architecture);
    free(img->base_path);
    free(img->kernel_path);
    free(img->initrd_path);
    free(img);
}

#define IMG_COLUMNS                                                                                          \
    "id, name, description, state, boot, architecture, base_path, kernel_path, initrd_path, created_at, size_bytes"

static img_obj *
img_from_row(sqlite3_stmt *st)
{
    img_obj *img = calloc(1, sizeof(*img));
    if (!img)
        return NULL;
    snprintf(img->id, sizeof(img->id), "%s", vm_db_text(st, 0));
    img->name = strdup(vm_db_text(st, 1));
    img->description = strdup(vm_db_text(st, 2));
    img->state = strdup(vm_db_text(st, 3));
    img->boot = strdup(vm_db_text(st, 4));
    img->architecture = strdup(vm_db_text(st, 5));
    img->base_path = strdup(vm_db_text(st, 6));
    if (sqlite3_column_type(st, 7) != SQLITE_NULL)
        img->kernel_path = strdup(vm_db_text(st, 7));
    if (sqlite3_column_type(st, 8) != SQLITE_NULL)
        img->initrd_path = strdup(vm_db_text(st, 8));
    img->created_at = sqlite3_column_int64(st, 9);
    img->size_bytes = (unsigned long long)sqlite3_column_int64(st, 10);
    return img;
}

int
img_get(vm_ctx *ctx, const char *id, img_obj **ret, vm_error *err)
{
    if (!vm_id_valid(id, "ami"))
        return vm_error_set(err, VM_ERR_AMI_MALFORMED, "Invalid id: \"%s\" (expecting \"ami-...\")", id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " IMG_COLUMNS " FROM images WHERE id = ?", "t", id) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE || (rc == SQLITE_ROW && strcmp(vm_db_text(st, 3), "deregistered") == 0))
        return vm_error_set(err, VM_ERR_AMI_NOT_FOUND, "The image id '[%s]' does not exist", id);
    if (rc != SQLITE_ROW)
        return vm_db_error(ctx->db, "reading image", err);
    if (!(*ret = img_from_row(st)))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

int
img_size(vm_ctx *ctx, img_obj *img, unsigned long long *ret, vm_error *err)
{
    if (!img->size_bytes) {
        if (img_inspect(img->base_path, "qcow2", &img->size_bytes, err) < 0)
            return -1;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_stmt(ctx->db, &st, err, "UPDATE images SET size_bytes = ? WHERE id = ?", "it",
                       (long long)((sqlite3_int64)img->size_bytes), img->id) < 0)
            return -1;
        if (sqlite3_step(st) != SQLITE_DONE)
            return vm_db_error(ctx->db, "saving image size", err);
    }
    *ret = img->size_bytes;
    return 0;
}

int
img_find_by_name(vm_ctx *ctx, const char *name, char ret_id[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id FROM images WHERE name = ?", "t", name) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return vm_db_error(ctx->db, "reading image", err);
    snprintf(ret_id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 1;
}

int
img_register(vm_ctx *ctx, const char *id, const char *name, const char *description, const char *boot,
             const char *base, const char *kernel, const char *initrd, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO images (id, name, description, state, boot, base_path, kernel_path, initrd_path, "
                   "created_at) VALUES (?, ?, ?, 'available', ?, ?, ?, ?, strftime('%s','now'))",
                   "ttttttt", id, name, description, boot, base, kernel, initrd) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "registering image", err);
    return 0;
}


/* 1 when img passes every filter, 0 when not. */
static int
img_filter(vm_ctx *ctx, const vm_filters *fs, const img_obj *img, vm_error *err)
{
    for (size_t i = 0; i < fs->n; i++) {
        const vm_filter *f = &fs->v[i];
        char created[32];
        vm_time_format(img->created_at, created, sizeof(created));
        const char *n = f->name;
        const char *subject = strcmp(n, "image-id") == 0              ? img->id
                              : strcmp(n, "name") == 0                ? img->name
                              : strcmp(n, "state") == 0               ? img->state
                              : strcmp(n, "architecture") == 0        ? img->architecture
                              : strcmp(n, "description") == 0         ? (img->description ? img->description : "")
                              : strcmp(n, "owner-id") == 0            ? ctx->account_id
                              : strcmp(n, "creation-date") == 0       ? created
                              : strcmp(n, "image-type") == 0          ? "machine"
                              : strcmp(n, "is-public") == 0           ? "false"
                              : strcmp(n, "root-device-type") == 0    ? "ebs"
                              : strcmp(n, "root-device-name") == 0    ? "/dev/vda"
                              : strcmp(n, "virtualization-type") == 0 ? "hvm"
                              : strcmp(n, "ena-support") == 0         ? "true"
                              : strcmp(n, "hypervisor") == 0 ? (strcmp(ctx->accel, "kvm") == 0 ? "kvm" : "qemu")
                                                             : NULL;
        if (subject) {
            if (!vm_match_any(subject, f->values))
                return 0;
            continue;
        }
        int m = vm_tags_match(ctx, img->id, f->name, f->values, err);
        if (m <= 0)
            return m;
    }
    return 1;
}

int
img_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const char *const *owners, const vm_filters *fs,
             vm_node *resp, vm_error *err)
{
    for (size_t i = 0; i < nids; i++) {
        _cleanup_(img_obj_freep) img_obj *img = NULL;
        if (img_get(ctx, ids[i], &img, err) < 0)
            return -1;
    }
    for (const char *const *o = owners; *o; o++)
        if (strcmp(*o, "self") != 0 && strcmp(*o, ctx->account_id) != 0 && strcmp(*o, "amazon") != 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid owner '%s'", *o);
    /* every image here belongs to this account; asking only for amazon's finds none */
    bool none = owners[0] != NULL;
    for (const char *const *o = owners; *o; o++)
        none &= strcmp(*o, "amazon") == 0;

    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT " IMG_COLUMNS " FROM images WHERE state != 'deregistered' ORDER BY created_at, id", &st,
                      err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "imagesSet", "Images");
    int rc;
    while (!none && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        _cleanup_(img_obj_freep) img_obj *img = img_from_row(st);
        if (!img)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        if (nids && !vm_match_any(img->id, ids))
            continue;
        int keep = img_filter(ctx, fs, img, err);
        if (keep < 0)
            return -1;
        if (!keep)
            continue;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "imageId", NULL, img->id);
        char loc[300];
        snprintf(loc, sizeof(loc), "%s/%s", ctx->account_id, img->name);
        vm_node_str(it, "imageLocation", NULL, loc);
        vm_node_str(it, "imageState", "State", img->state);
        vm_node_str(it, "imageOwnerId", "OwnerId", ctx->account_id);
        char created[32];
        vm_time_format(img->created_at, created, sizeof(created)); /* a string in the model, not a timestamp */
        vm_node_str(it, "creationDate", NULL, created);
        vm_node_bool(it, "isPublic", "Public", false);
        vm_node_str(it, "architecture", NULL, img->architecture);
        vm_node_str(it, "imageType", NULL, "machine");
        vm_node_str(it, "platformDetails", NULL, "Linux/UNIX");
        vm_node_str(it, "usageOperation", NULL, "RunInstances");
        vm_node_bool(it, "enaSupport", NULL, true);
        vm_node_str(it, "name", NULL, img->name);
        vm_node_str(it, "description", NULL, img->description);
        vm_node_str(it, "rootDeviceType", NULL, "ebs");
        vm_node_str(it, "rootDeviceName", NULL, "/dev/vda");
        vm_node *bdm = vm_node_list(it, "blockDeviceMapping", "BlockDeviceMappings");
        char snap[VM_ID_MAX];
        long snap_gib = 0;
        int has_snap = snap_of_image(ctx, img->id, snap, &snap_gib, err);
        if (has_snap < 0)
            return -1;
        if (has_snap) {
            vm_node *m = vm_node_item(bdm);
            vm_node_str(m, "deviceName", NULL, "/dev/vda");
            vm_node *ebs = vm_node_struct(m, "ebs", NULL);
            vm_node_str(ebs, "snapshotId", NULL, snap);
            vm_node_int(ebs, "volumeSize", NULL, snap_gib);
            vm_node_bool(ebs, "deleteOnTermination", NULL, true);
            vm_node_str(ebs, "volumeType", NULL, "gp3");
            vm_node_bool(ebs, "encrypted", NULL, false);
        }
        vm_node_str(it, "virtualizationType", NULL, "hvm");
        vm_node_str(it, "hypervisor", NULL, strcmp(ctx->accel, "kvm") == 0 ? "kvm" : "qemu");
        vm_node_str(it, "bootMode", NULL, strcmp(img->boot, "uefi") == 0 ? "uefi" : "legacy-bios");
        if (vm_tags_render(ctx, it, img->id, err) < 0)
            return -1;
    }
    return 0;
}
