/* The tiny default image: built once per recipe version into a shared cache by images/tiny/build.sh
 * (Debian's kernel, busybox), then copied read-only into each state dir and registered. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../storage/overlay.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "../vmmgr/core/lock.h"
#include "catalog.h"

static const char *const recipe_files[] = { "build.sh", "initramfs-init", "rcS", "udhcpc.script" };

/* A short digest of the recipe, so a changed recipe gets a new cache entry. */
static int
recipe_digest(vm_ctx *ctx, char out[17], vm_error *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot hash the image recipe");
    }
    for (size_t i = 0; i < sizeof(recipe_files) / sizeof(recipe_files[0]); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", ctx->images_dir, recipe_files[i]);
        FILE *f = fopen(path, "re");
        if (!f) {
            EVP_MD_CTX_free(md);
            return vm_error_set_errno(err, errno, VM_ERR_INTERNAL,
                                      "cannot read the tiny image recipe '%s' (set VMMGR_IMAGES_DIR)", path);
        }
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
            EVP_DigestUpdate(md, buf, n);
        fclose(f);
    }
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl;
    EVP_DigestFinal_ex(md, h, &hl);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 8; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
    return 0;
}

int
img_tiny_build(vm_ctx *ctx, char *buf, size_t len, vm_error *err)
{
    char digest[17];
    if (recipe_digest(ctx, digest, err) < 0)
        return -1;
    if (mkdir(ctx->cache_dir, 0755) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create cache dir '%s'", ctx->cache_dir);
    snprintf(buf, len, "%s/tiny-%s", ctx->cache_dir, digest);

    char manifest[4096];
    snprintf(manifest, sizeof(manifest), "%s/manifest", buf);
    if (access(manifest, R_OK) == 0)
        return 0;
    /* one builder at a time; the others find the result when they get the lock */
    int lock = vm_lock_take(ctx->cache_dir, "tiny-build", false, err);
    if (lock < 0)
        return -1;
    int rc = 0;
    if (access(manifest, R_OK) != 0) {
        char script[4096];
        snprintf(script, sizeof(script), "%s/build.sh", ctx->images_dir);
        const char *argv[] = { "/bin/sh", script, buf, NULL };
        vm_cmd_limits lim = { .timeout_sec = 900 };
        rc = vm_cmd_run(argv, &lim, NULL, err);
    }
    vm_lock_release(lock);
    return rc;
}

int
img_tiny_ensure(vm_ctx *ctx, char ret_id[VM_ID_MAX], vm_error *err)
{
    int found = img_find_by_name(ctx, IMG_TINY_NAME, ret_id, err);
    if (found != 0)
        return found < 0 ? -1 : 0;

    char cache[4096];
    if (img_tiny_build(ctx, cache, sizeof(cache), err) < 0)
        return -1;

    char id[VM_ID_MAX], dir[4096];
    vm_id_new("ami", id);
    snprintf(dir, sizeof(dir), "%s/images/%s", ctx->state_dir, id);
    if (mkdir(dir, 0755) < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", dir);

    const char *files[] = { "root.qcow2", "vmlinux", "initrd.img" };
    char paths[3][4200] = { { 0 } };
    for (int i = 0; i < 3; i++) {
        char src[4200];
        snprintf(src, sizeof(src), "%s/%s", cache, files[i]);
        snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, files[i]);
        if (vol_file_copy_readonly(src, paths[i], err) < 0)
            goto fail;
    }
    if (img_register(ctx, id, IMG_TINY_NAME, "vmmgr tiny image: Debian kernel (PVH), busybox", "direct", paths[0],
                     paths[1], paths[2], err) < 0)
        goto fail;
    snprintf(ret_id, VM_ID_MAX, "%s", id);
    return 0;
fail:
    for (int i = 0; i < 3; i++)
        if (paths[i][0])
            unlink(paths[i]);
    rmdir(dir);
    return -1;
}
