#include "cidata.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"

static pthread_once_t iso_once = PTHREAD_ONCE_INIT;
static int iso_init_rc;

static void
iso_start(void)
{
    iso_init_rc = iso_init();
    /* libisofs reports through its message queue; nothing is printed */
    iso_set_msgs_severities("NEVER", "NEVER", "vmmgr");
}

int
cidata_write(const char *path, const cidata_file *files, size_t nfiles, vm_error *err)
{
    pthread_once(&iso_once, iso_start);
    if (iso_init_rc < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "libisofs failed to start (%d)", iso_init_rc);

    IsoImage *image = NULL;
    IsoWriteOpts *opts = NULL;
    struct burn_source *src = NULL;
    int rc = -1, fd = -1;
    char part[4096];
    snprintf(part, sizeof(part), "%s.part", path);

    if (iso_image_new("cidata", &image) < 0) {
        vm_error_set(err, VM_ERR_INTERNAL, "cannot create an ISO image");
        goto out;
    }
    iso_image_set_volume_id(image, "cidata");
    for (size_t i = 0; i < nfiles; i++) {
        /* the stream takes ownership of its buffer */
        unsigned char *copy = malloc(files[i].len ? files[i].len : 1);
        IsoStream *stream = NULL;
        if (!copy) {
            vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            goto out;
        }
        memcpy(copy, files[i].data, files[i].len);
        if (iso_memory_stream_new(copy, files[i].len, &stream) < 0) {
            free(copy);
            vm_error_set(err, VM_ERR_INTERNAL, "cannot add '%s' to the config drive", files[i].name);
            goto out;
        }
        if (iso_tree_add_new_file(iso_image_get_root(image), files[i].name, stream, NULL) < 0) {
            iso_stream_unref(stream);
            vm_error_set(err, VM_ERR_INTERNAL, "cannot add '%s' to the config drive", files[i].name);
            goto out;
        }
    }
    if (iso_write_opts_new(&opts, 0) < 0 || iso_write_opts_set_rockridge(opts, 1) < 0 ||
        iso_write_opts_set_joliet(opts, 1) < 0 || iso_image_create_burn_source(image, opts, &src) < 0) {
        vm_error_set(err, VM_ERR_INTERNAL, "cannot start writing the config drive");
        goto out;
    }
    fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot create '%s'", part);
        goto out;
    }
    unsigned char buf[2048];
    int n;
    while ((n = src->read_xt(src, buf, sizeof(buf))) > 0) {
        if (write(fd, buf, (size_t)n) != n) {
            vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot write '%s'", part);
            goto out;
        }
    }
    if (n < 0) {
        vm_error_set(err, VM_ERR_INTERNAL, "writing the config drive failed");
        goto out;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot finish '%s'", part);
        goto out;
    }
    fd = -1;
    if (rename(part, path) < 0) {
        vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot rename '%s'", part);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(part);
    if (src) {
        src->free_data(src);
        free(src);
    }
    iso_write_opts_free(opts);
    if (image)
        iso_image_unref(image);
    return rc;
}
