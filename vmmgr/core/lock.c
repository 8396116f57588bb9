#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

int
vm_lock_take(const char *dir, const char *name, bool nonblock, vm_error *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.lock", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot open lock '%s'", path);
    while (flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0)) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return -2;
        return vm_error_set_errno(err, e, VM_ERR_INTERNAL, "cannot take lock '%s'", path);
    }
    return fd;
}

void
vm_lock_release(int fd)
{
    if (fd >= 0)
        close(fd);
}
