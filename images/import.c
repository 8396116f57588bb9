/* Images from outside (ImportImage, local only), from an instance (CreateImage), and their end
 * (DeregisterImage).
 *
 * An import is inspected (files.c) before anything reads it as a disk, then converted to the
 * read-only base under the state dir.  The image row is recorded (pending) before the first file
 * is written; a crash leaves a pending image that reconcile removes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../storage/overlay.h"
#include "../storage/snapshot.h"
#include "../storage/volume.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/job.h"
#include "../vmmgr/core/lock.h"
#include "../vmmgr/core/tags.h"
#include "catalog.h"


int
img_check_name(const char *name, vm_error *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 3 || n > 128)
        return vm_error_set(err, VM_ERR_AMI_NAME_MALFORMED, "AMI names must be 3 to 128 characters long");
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr("()[] ./-'@_", *c)))
            return vm_error_set(err, VM_ERR_AMI_NAME_MALFORMED,
                                "AMI names may hold letters, digits, spaces and ( ) [ ] . / - ' @ _ only");
    return 0;
}

int
img_check_free(vm_ctx *ctx, const char *name, vm_error *err)
{
    char exists[VM_ID_MAX];
    int taken = img_find_by_name(ctx, name, exists, err);
    if (taken != 0)
        return taken < 0 ? -1 : vm_error_set(err, VM_ERR_AMI_NAME_DUPLICATE, "AMI name '%s' is already in use", name);
    return 0;
}

int
img_set_state(vm_ctx *ctx, const char *id, const char *state, vm_error *err)
{
    return vm_db_run(ctx->db, err, "UPDATE images SET state = ? WHERE id = ?", "tt", state, id) < 0 ? -1 : 0;
}

int
img_record_pending(vm_ctx *ctx, const char *id, const char *name, const char *desc, const char *boot, const char *kernel,
               const char *initrd, char *base, size_t baselen, vm_error *err)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/images/%s", ctx->state_dir, id);
    snprintf(base, baselen, "%s/root.qcow2", dir);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO images (id, name, description, state, boot, base_path, kernel_path, initrd_path, "
                   "created_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, strftime('%s','now'))",
                   "ttttttt", id, name, desc ? desc : "", boot, base, kernel, initrd) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        return vm_error_set(err, VM_ERR_AMI_NAME_DUPLICATE, "AMI name '%s' is already in use", name);
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording image", err);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", dir);
    return 0;
}

/* Removes an image's files and its row (an import or a create-image that failed). */
void
img_discard(vm_ctx *ctx, const char *id)
{
    const char *files[] = { "root.qcow2", "root.qcow2.part", "vmlinux", "initrd.img" };
    char path[4200];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/images/%s/%s", ctx->state_dir, id, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/images/%s", ctx->state_dir, id);
    rmdir(path);
    sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, &(vm_error){ 0 }, "DELETE FROM images WHERE id = ?", "t", id) == 0)
        sqlite3_step(st);
    sqlite3_finalize(st);
    vm_error ignore = { 0 };
    vm_tags_drop(ctx, id, &ignore);
}

static void
render_result(vm_node *resp, const char *id, const char *name, const char *desc, const char *boot)
{
    vm_node_str(resp, "imageId", NULL, id);
    vm_node_str(resp, "name", NULL, name);
    vm_node_str(resp, "description", NULL, desc ? desc : "");
    vm_node_str(resp, "architecture", NULL, "x86_64");
    vm_node_str(resp, "bootMode", NULL, boot);
    vm_node_str(resp, "status", NULL, "completed");
}

int
img_import(vm_ctx *ctx, const img_import_req *r, vm_node *resp, vm_error *err)
{
    const char *url = r->url, *fmt = r->format, *name = r->name, *desc = r->description, *arch = r->architecture;
    const char *boot = r->boot_mode, *kernel = r->kernel, *initrd = r->initrd;
    bool progress = ctx->progress;
    if (img_check_name(name, err) < 0)
        return -1;
    if (strncmp(url, "file://", 7) != 0 || url[7] != '/')
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "the disk must be a local file (file:///PATH), not '%s'",
                            url);
    const char *path = url + 7;
    if (!fmt)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter DiskContainer.1.Format");
    if (strcmp(fmt, "qcow2") != 0 && strcmp(fmt, "raw") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "disk format must be qcow2 or raw, not '%s'", fmt);
    if (arch && strcmp(arch, "x86_64") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "architecture '%s' is not supported here", arch);
    if (!boot || strcmp(boot, "legacy-bios") == 0)
        boot = "bios";
    if (strcmp(boot, "bios") != 0 && strcmp(boot, "uefi") != 0 && strcmp(boot, "direct") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "boot mode must be bios, uefi or direct, not '%s'", boot);
    if (strcmp(boot, "direct") == 0 && (!kernel || !initrd))
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "a direct-boot image needs KernelFile and RamdiskFile");
    if (strcmp(boot, "direct") != 0 && (kernel || initrd))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION, "KernelFile and RamdiskFile need BootMode direct");
    unsigned long long size;
    if (img_inspect(path, fmt, &size, err) < 0)
        return -1;
    if (img_check_free(ctx, name, err) < 0)
        return -1;
    if (ctx->dry_run)
        return vm_error_dry_run(err);

    char id[VM_ID_MAX], base[4200], kpath[4200] = "", ipath[4200] = "";
    vm_id_new("ami", id);
    if (kernel) {
        snprintf(kpath, sizeof(kpath), "%s/images/%s/vmlinux", ctx->state_dir, id);
        snprintf(ipath, sizeof(ipath), "%s/images/%s/initrd.img", ctx->state_dir, id);
    }
    int lock = vm_ctx_lock(ctx, id, false, err);
    if (lock < 0)
        return -1;
    int rc = img_record_pending(ctx, id, name, desc, boot, kernel ? kpath : NULL, kernel ? ipath : NULL, base,
                            sizeof(base), err);
    if (rc == 0 && kernel)
        rc = vol_file_copy_readonly(kernel, kpath, err) < 0 || vol_file_copy_readonly(initrd, ipath, err) < 0 ? -1 : 0;
    if (rc == 0)
        rc = img_convert(path, fmt, base, false, progress, err);
    if (rc == 0)
        rc = img_set_state(ctx, id, "available", err);
    if (rc < 0 && !(err->code == VM_ERR_AMI_NAME_DUPLICATE))
        img_discard(ctx, id);
    vm_lock_release(lock);
    if (rc < 0)
        return -1;
    render_result(resp, id, name, desc, boot);
    return 0;
}

int
img_deregister(vm_ctx *ctx, const char *id, vm_node *resp, vm_error *err)
{
    _cleanup_(img_obj_freep) img_obj *img = NULL;
    bool dry = ctx->dry_run;
    if (img_get(ctx, id, &img, err) < 0)
        return -1;
    if (strcmp(img->state, "available") != 0 && strcmp(img->state, "failed") != 0)
        return vm_error_set(err, VM_ERR_AMI_NOT_FOUND, "The image id '[%s]' does not exist", id);
    char vol[32];
    int used = vol_uses_image(ctx, id, vol, err);
    if (used != 0)
        return used < 0 ? -1
                        : vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                       "image '%s' is the base of volume '%s' (kept from an instance)", id, vol);
    if (dry)
        return vm_error_dry_run(err);
    /* terminated instances may still name it: keep the row (hidden, its name free again), drop the files */
    _cleanup_stmt_ sqlite3_stmt *up = NULL;
    if (vm_db_stmt(ctx->db, &up, err, "UPDATE images SET state = 'deregistered', name = id || ' ' || name WHERE id = ?",
                   "t", id) < 0)
        return -1;
    if (sqlite3_step(up) != SQLITE_DONE)
        return vm_db_error(ctx->db, "deregistering image", err);
    /* an AMI made by create-image keeps its snapshot (and so its base file), as on EC2 */
    char snap[VM_ID_MAX];
    int has_snap = snap_of_image(ctx, id, snap, NULL, err);
    if (has_snap < 0)
        return -1;
    const char *files[] = { img->kernel_path, img->initrd_path, has_snap ? NULL : img->base_path };
    for (size_t i = 0; i < 3; i++)
        if (files[i] && vol_file_remove(files[i], err) < 0)
            return -1;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/images/%s", ctx->state_dir, id);
    rmdir(dir);
    vm_node_bool(resp, "return", NULL, true);
    return 0;
}

void
img_sweep(vm_ctx *ctx)
{
    sqlite3_stmt *st = NULL;
    char ids[64][VM_ID_MAX];
    int n = 0;
    if (sqlite3_prepare_v2(ctx->db, "SELECT id FROM images WHERE state = 'pending' LIMIT 64", -1, &st, NULL) ==
        SQLITE_OK)
        while (n < 64 && sqlite3_step(st) == SQLITE_ROW)
            snprintf(ids[n++], VM_ID_MAX, "%s", vm_db_text(st, 0));
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++) {
        /* every import and create-image job holds the image's lock while it is pending */
        vm_error err = { 0 };
        int lock = vm_ctx_lock(ctx, ids[i], true, &err);
        if (lock < 0)
            continue;
        img_discard(ctx, ids[i]);
        vm_lock_release(lock);
    }
}
