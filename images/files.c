/* The image files, with qemu-img: an outside file inspected before anything reads it as a disk
 * (`qemu-img info -f FORMAT` under CPU, memory and time limits; a qcow2 with a backing file or an
 * external data file is refused, since it could read host files, and so is a file whose header is
 * not the declared format, a "raw" file carrying a qcow2 header), and the read-only qcow2 base
 * written by `qemu-img convert`.  Files in, files out; no SQL here (catalog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "catalog.h"

static const vm_cmd_limits inspect_limits = {
    .timeout_sec = 60,
    .cpu_sec = 30,
    /* virtual, not resident: each of qemu-img's threads reserves a stack and a 64 MiB malloc arena,
     * and 1 GiB made thread creation fail (EAGAIN) on a loaded host; 4 GiB still bounds a crafted image */
    .address_space = 4L << 30,
};

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
