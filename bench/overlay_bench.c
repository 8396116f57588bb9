/* Overlay creation time on a large base against a small one, through vmmgr's own code path
 * (vol_overlay_create).  Prints both medians and their ratio; target ratio <= 1.2.
 *
 *   overlay_bench DIR [SAMPLES] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../storage/overlay.h"
#include "../vmmgr/core/cmd.h"

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int
make_base(const char *path, const char *size, const char *fill_mib)
{
    vm_error err = { 0 };
    const char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", path, size, NULL };
    if (vm_cmd_run(create, NULL, NULL, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    /* some real data in the base, so its metadata is not empty */
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "write 0 %sM", fill_mib);
    const char *io[] = { "qemu-io", "-f", "qcow2", "-c", cmd, path, NULL };
    if (vm_cmd_run(io, NULL, NULL, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: overlay_bench DIR [SAMPLES]\n");
        return 2;
    }
    const char *dir = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 11;
    char big[4096], small[4096], ov[4096];
    snprintf(big, sizeof(big), "%s/base-20g.qcow2", dir);
    snprintf(small, sizeof(small), "%s/base-100m.qcow2", dir);
    snprintf(ov, sizeof(ov), "%s/overlay.qcow2", dir);
    if (make_base(big, "20G", "64") < 0 || make_base(small, "100M", "64") < 0)
        return 1;
    double *tb = calloc((size_t)n, sizeof(double)), *ts = calloc((size_t)n, sizeof(double));
    long long ov_size = 0;
    for (int i = 0; i < n; i++) {
        /* interleaved: big, small, big, small … */
        for (int which = 0; which < 2; which++) {
            vm_error err = { 0 };
            double t0 = now();
            if (vol_overlay_create(which ? small : big, "qcow2", ov, 0, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            double dt = now() - t0;
            struct stat st;
            if (stat(ov, &st) == 0 && st.st_blocks * 512LL > ov_size)
                ov_size = st.st_blocks * 512LL;
            unlink(ov);
            (which ? ts : tb)[i] = dt;
        }
    }
    /* the first sample warms caches: drop it */
    qsort(tb + 1, (size_t)n - 1, sizeof(double), cmp);
    qsort(ts + 1, (size_t)n - 1, sizeof(double), cmp);
    double mb = tb[1 + (n - 1) / 2], ms = ts[1 + (n - 1) / 2];
    printf("overlay creation (vmmgr vol_overlay_create → qemu-img), %d samples each, first dropped\n", n - 1);
    printf("  20 GiB base:  median %.1f ms\n", mb * 1e3);
    printf("  100 MiB base: median %.1f ms\n", ms * 1e3);
    printf("  ratio 20 GiB / 100 MiB: %.2f (target <= 1.2)\n", mb / ms);
    printf("  largest overlay on disk: %lld KiB\n", ov_size / 1024);
    unlink(big);
    unlink(small);
    return 0;
}
