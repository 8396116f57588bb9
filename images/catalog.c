#include "catalog.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
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

#define IMG_COLUMNS "id, name, description, state, boot, architecture, base_path, kernel_path, initrd_path, created_at"

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
    return img;
}

int
img_get(vm_ctx *ctx, const char *id, img_obj **ret, vm_error *err)
{
    if (!vm_id_valid(id, "ami"))
        return vm_error_set(err, VM_ERR_AMI_MALFORMED, "Invalid id: \"%s\" (expecting \"ami-...\")", id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " IMG_COLUMNS " FROM images WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return vm_error_set(err, VM_ERR_AMI_NOT_FOUND, "The image id '[%s]' does not exist", id);
    if (rc != SQLITE_ROW)
        return vm_db_error(ctx->db, "reading image", err);
    if (!(*ret = img_from_row(st)))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

int
img_find_by_name(vm_ctx *ctx, const char *name, char ret_id[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM images WHERE name = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
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
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO images (id, name, description, state, boot, base_path, kernel_path, initrd_path, "
                      "created_at) VALUES (?, ?, ?, 'available', ?, ?, ?, ?, strftime('%s','now'))",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, description, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, boot, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, base, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, kernel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, initrd, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "registering image", err);
    return 0;
}

static bool
any_match(const char *value, const char **pats)
{
    for (; *pats; pats++)
        if (fnmatch(*pats, value, 0) == 0)
            return true;
    return false;
}

static int
img_filter(vm_ctx *ctx, const vm_params *p, const img_obj *img, bool *ret_keep, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "Filter", &idx, &n, err) < 0)
        return -1;
    *ret_keep = true;
    for (size_t i = 0; i < n && *ret_keep; i++) {
        const char *name = vm_params_getf(p, "Filter.%d.Name", idx[i]);
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "Filter.%d.Value", idx[i]);
        _cleanup_free_ const char **vals = NULL;
        if (!name)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "filter %d has no Name", idx[i]);
        if (vm_params_list(p, prefix, &vals, NULL, err) < 0)
            return -1;
        if (strcmp(name, "image-id") == 0)
            *ret_keep = any_match(img->id, vals);
        else if (strcmp(name, "name") == 0)
            *ret_keep = any_match(img->name, vals);
        else if (strcmp(name, "state") == 0)
            *ret_keep = any_match(img->state, vals);
        else if (strcmp(name, "architecture") == 0)
            *ret_keep = any_match(img->architecture, vals);
        else if (strncmp(name, "tag:", 4) == 0 || strcmp(name, "tag-key") == 0) {
            int m = vm_tags_match(ctx, img->id, name, vals, err);
            if (m < 0)
                return -1;
            *ret_keep = m;
        } else
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The filter '%s' is invalid", name);
    }
    return 0;
}

int
img_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL, **owners = NULL;
    size_t nids;
    if (vm_params_list(p, "ImageId", &ids, &nids, err) < 0 || vm_params_list(p, "Owner", &owners, NULL, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++) {
        _cleanup_(img_obj_freep) img_obj *img = NULL;
        if (img_get(ctx, ids[i], &img, err) < 0)
            return -1;
    }
    for (const char **o = owners; *o; o++)
        if (strcmp(*o, "self") != 0 && strcmp(*o, ctx->account_id) != 0 && strcmp(*o, "amazon") != 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid owner '%s'", *o);
    /* every image here belongs to this account; asking only for amazon's finds none */
    bool none = owners[0] != NULL;
    for (const char **o = owners; *o; o++)
        none &= strcmp(*o, "amazon") == 0;

    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " IMG_COLUMNS " FROM images ORDER BY created_at, id", &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "imagesSet", "Images");
    int rc;
    while (!none && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        _cleanup_(img_obj_freep) img_obj *img = img_from_row(st);
        if (!img)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        if (nids && !any_match(img->id, ids))
            continue;
        bool keep;
        if (img_filter(ctx, p, img, &keep, err) < 0)
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
        vm_node_str(it, "name", NULL, img->name);
        vm_node_str(it, "description", NULL, img->description);
        vm_node_str(it, "rootDeviceType", NULL, "ebs");
        vm_node_str(it, "rootDeviceName", NULL, "/dev/vda");
        vm_node_list(it, "blockDeviceMapping", "BlockDeviceMappings");
        vm_node_str(it, "virtualizationType", NULL, "hvm");
        vm_node_str(it, "hypervisor", NULL, strcmp(ctx->accel, "kvm") == 0 ? "kvm" : "qemu");
        vm_node_str(it, "bootMode", NULL, strcmp(img->boot, "uefi") == 0 ? "uefi" : "legacy-bios");
        if (vm_tags_render(ctx, it, img->id, err) < 0)
            return -1;
    }
    return 0;
}
