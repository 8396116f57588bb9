#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"

int
vol_overlay_create(const char *base, const char *base_fmt, const char *path, unsigned long long size_bytes,
                   vm_error *err)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "disk '%s' already exists", path);
    char size[32];
    snprintf(size, sizeof(size), "%llu", size_bytes);
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", base_fmt, "-b", base, path,
                           size_bytes ? size : NULL, NULL };
    vm_cmd_limits lim = { .timeout_sec = 60 };
    if (vm_cmd_run(argv, &lim, NULL, err) < 0) {
        unlink(path);
        return -1;
    }
    return 0;
}

int
vol_file_remove(const char *path, vm_error *err)
{
    if (unlink(path) < 0 && errno != ENOENT)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot remove '%s'", path);
    return 0;
}

int
vol_file_copy_readonly(const char *src, const char *dst, vm_error *err)
{
    _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot open '%s'", src);
    struct stat st;
    if (fstat(in, &st) < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot stat '%s'", src);
    _cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (out < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", dst);
    off_t left = st.st_size;
    while (left > 0) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            unlink(dst);
            return vm_error_set_errno(err, e, VM_ERR_INTERNAL, "cannot copy '%s' to '%s'", src, dst);
        }
        left -= n;
    }
    if (fsync(out) < 0 || fchmod(out, 0444) < 0) {
        int e = errno;
        unlink(dst);
        return vm_error_set_errno(err, e, VM_ERR_INTERNAL, "cannot finish '%s'", dst);
    }
    return 0;
}
