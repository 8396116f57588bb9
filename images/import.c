/* Images from outside (ImportImage, local only), from an instance (CreateImage), and their end
 * (DeregisterImage).
 *
 * An import is inspected before anything reads it as a disk: `qemu-img info -f FORMAT` under CPU,
 * memory and time limits; a qcow2 with a backing file or an external data file is refused (it
 * could read host files), and so is a file whose header is not the declared format (a "raw" file
 * carrying a qcow2 header).  The base is then written by `qemu-img convert` to qcow2 under the
 * state dir, read-only.  The image row is recorded (pending) before the first file is written;
 * a crash leaves a pending image that reconcile removes. */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/virterror.h>
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
#include "../vmmgr/core/cmd.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/job.h"
#include "../vmmgr/core/lock.h"
#include "../vmmgr/core/tags.h"
#include "catalog.h"


static const vm_cmd_limits inspect_limits = {
    .timeout_sec = 60,
    .cpu_sec = 30,
    /* virtual, not resident: each of qemu-img's threads reserves a stack and a 64 MiB malloc arena,
     * and 1 GiB made thread creation fail (EAGAIN) on a loaded host; 4 GiB still bounds a crafted image */
    .address_space = 4L << 30,
};

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

/* Inspects an outside file as format fmt: 0 when safe to read as that format. */
int
img_inspect(const char *path, const char *fmt, unsigned long long *ret_size, vm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INVALID_PARAMETER_VALUE, "cannot open '%s'", path);
    struct stat st;
    unsigned char magic[4] = { 0 };
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    ssize_t n = regular ? read(fd, magic, sizeof(magic)) : -1;
    close(fd);
    if (!regular)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "'%s' is not a regular file", path);
    bool qcow2_magic = n == 4 && memcmp(magic, "QFI\xfb", 4) == 0;
    if (strcmp(fmt, "raw") == 0 && qcow2_magic)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "'%s' is declared raw but carries a qcow2 header: refused", path);
    if (strcmp(fmt, "qcow2") == 0 && !qcow2_magic)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "'%s' is not a qcow2 image", path);

    const char *argv[] = { "qemu-img", "info", "-f", fmt, "--output=json", path, NULL };
    _cleanup_free_ char *out = NULL;
    if (vm_cmd_run(argv, &inspect_limits, &out, err) < 0)
        return -1;
    if (strstr(out, "\"backing-filename\"") || strstr(out, "\"full-backing-filename\""))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "'%s' has a backing file: refused (it could read files of the host)", path);
    if (strstr(out, "\"data-file\""))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "'%s' has an external data file: refused (it could read files of the host)", path);
    const char *vs = strstr(out, "\"virtual-size\":");
    if (!vs || sscanf(vs + 15, " %llu", ret_size) != 1)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "qemu-img could not tell the size of '%s'", path);
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
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO images (id, name, description, state, boot, base_path, kernel_path, initrd_path, "
                      "created_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, strftime('%s','now'))",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, desc ? desc : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, boot, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, base, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, kernel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, initrd, -1, SQLITE_STATIC);
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
    if (sqlite3_prepare_v2(ctx->db, "DELETE FROM images WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    vm_error ignore = { 0 };
    vm_tags_drop(ctx, id, &ignore);
}

int
img_convert(const char *src, const char *fmt, const char *base, bool shared, bool progress, vm_error *err)
{
    char part[4200];
    snprintf(part, sizeof(part), "%s.part", base);
    const char *argv[12];
    int a = 0;
    argv[a++] = "qemu-img";
    argv[a++] = "convert";
    if (progress)
        argv[a++] = "-p";
    if (shared)
        argv[a++] = "-U"; /* the guest still holds it: a crash-consistent read, as EC2's NoReboot */
    argv[a++] = "-f";
    argv[a++] = fmt;
    argv[a++] = "-O";
    argv[a++] = "qcow2";
    argv[a++] = src;
    argv[a++] = part;
    argv[a] = NULL;
    vm_cmd_limits lim = { .timeout_sec = 3600, .show_output = progress };
    if (vm_cmd_run(argv, &lim, NULL, err) < 0) {
        unlink(part);
        return -1;
    }
    if (chmod(part, 0444) < 0 || rename(part, base) < 0) {
        unlink(part);
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot finish '%s'", base);
    }
    return 0;
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
    if (vm_db_prepare(ctx->db, "UPDATE images SET state = 'deregistered', name = id || ' ' || name WHERE id = ?", &up,
                      err) < 0)
        return -1;
    sqlite3_bind_text(up, 1, id, -1, SQLITE_STATIC);
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
