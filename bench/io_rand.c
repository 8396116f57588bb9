/* Random 4 KiB reads with O_DIRECT from a block device for a number of seconds; prints the IOPS.
 * Built static on the host and copied into the tiny guest by bench/io.sh (busybox has no fio).
 *
 *   io_rand DEVICE SECONDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: io_rand DEVICE SECONDS\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    uint64_t size = 0;
    if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0 || size < 4096) {
        perror(argv[1]);
        return 1;
    }
    void *buf;
    if (posix_memalign(&buf, 4096, 4096) != 0)
        return 1;
    uint64_t blocks = size / 4096, x = 88172645463325252ULL, n = 0;
    double end = now() + atof(argv[2]), start = now();
    while (now() < end) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (pread(fd, buf, 4096, (off_t)((x % blocks) * 4096)) != 4096) {
            perror("pread");
            return 1;
        }
        n++;
    }
    printf("%.0f\n", n / (now() - start));
    return 0;
}
