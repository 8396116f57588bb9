/* The metrics sampler's cost per round with N running instances, and the store's size after
 * SIM_HOURS simulated hours of them at 10 s.  libvirt's test driver holds the N domains (in this
 * process: no guests needed), so the round is the real one: one virConnectGetAllDomainStats call,
 * the store's instances and volumes, every point put in one transaction, the retention tiers.
 *
 *   sampler_bench STATE_DIR N ROUNDS [SIM_HOURS]
 * prints: N, points per round, median and p95 ms per round, and after the simulation the store's
 * size in MiB and its points by tier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../metrics/metrics.h"
#include "../metrics/sampler.h"
#include "../vmmgr/compute/instance.h"
#include "../vmmgr/core/db.h"

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static long long
file_size(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sampler_bench STATE_DIR N ROUNDS [SIM_HOURS]\n");
        return 2;
    }
    int n = atoi(argv[2]), rounds = atoi(argv[3]);
    double hours = argc > 4 ? atof(argv[4]) : 0;
    vm_error err = { 0 };
    vm_ctx *ctx = vm_ctx_new(argv[1], "test:///default", &err);
    virConnectPtr conn = ctx ? vm_ctx_conn(ctx, &err) : NULL;
    if (!conn) {
        fprintf(stderr, "sampler_bench: %s\n", err.msg);
        return 1;
    }
    /* records only: no images or reservations behind them */
    vm_db_exec(ctx->db, "PRAGMA foreign_keys = OFF", &err);
    vm_db_exec(ctx->db, "BEGIN", &err);
    for (int i = 0; i < n; i++) {
        char id[VM_ID_MAX], vol[VM_ID_MAX], path[256], xml[1024];
        vm_id_new("i", id);
        vm_id_new("vol", vol);
        snprintf(path, sizeof(path), "%s/volumes/%s.qcow2", ctx->state_dir, vol);
        snprintf(xml, sizeof(xml),
                 "<domain type='test'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
                 "<os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'>"
                 "<source file='%s'/><target dev='vda' bus='virtio'/></disk><interface type='network'>"
                 "<source network='default'/></interface></devices></domain>",
                 id, path);
        virDomainPtr d = virDomainCreateXML(conn, xml, 0);
        if (!d) {
            fprintf(stderr, "sampler_bench: the test driver refused a domain\n");
            return 1;
        }
        virDomainFree(d);
        sqlite3_stmt *st = NULL;
        vm_db_prepare(ctx->db,
                      "INSERT INTO instances (id, reservation_id, image_id, instance_type, launch_index, state, "
                      "launch_step, launched_at, changed_at, disk_path, console_path) VALUES (?, 'r-0', 'ami-0', "
                      "?, 0, ?, 3, 0, 0, ?, '')",
                      &st, &err);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, i % 2 ? "t3.micro" : "t2.micro", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, INST_RUNNING);
        sqlite3_bind_text(st, 4, path, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
        vm_db_prepare(ctx->db,
                      "INSERT INTO volumes (id, size_gib, type, iops, throughput, state, path, created_at, "
                      "instance_id, device, attach_state) VALUES (?, 8, 'gp3', 3000, 125, 'in-use', ?, 0, ?, "
                      "'/dev/xvda', 'attached')",
                      &st, &err);
        sqlite3_bind_text(st, 1, vol, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    vm_db_exec(ctx->db, "COMMIT", &err);

    sampler *s = sampler_new();
    time_t now = time(NULL);
    size_t points = 0;
    double *ms = calloc((size_t)rounds, sizeof(double));
    for (int r = 0; r <= rounds; r++) { /* round 0 only sets the counters' base */
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (sampler_round(ctx, s, now + r * 10, &points, &err) < 0) {
            fprintf(stderr, "sampler_bench: %s\n", err.msg);
            return 1;
        }
        if (r)
            ms[r - 1] = ms_since(&t0);
    }
    qsort(ms, (size_t)rounds, sizeof(double), cmp_double);
    printf("%d instances: %zu points a round, %.2f ms median, %.2f ms p95 per round\n", n, points, ms[rounds / 2],
           ms[rounds * 95 / 100]);
    if (hours > 0) {
        /* the last SIM_HOURS at 10 s, ending now, as a daemon would have sampled them (each put rolls
         * up what is older than the tiers' ages, now) */
        long total = (long)(hours * 360);
        time_t t0 = time(NULL) - total * 10;
        struct timespec c0;
        clock_gettime(CLOCK_MONOTONIC, &c0);
        for (long r = 0; r < total; r++) {
            if (sampler_round(ctx, s, t0 + r * 10, NULL, &err) < 0) {
                fprintf(stderr, "sampler_bench: %s\n", err.msg);
                return 1;
            }
        }
        metrics_maintain(ctx, time(NULL), &err);
        vm_db_exec(ctx->db, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM", &err);
        sqlite3_stmt *st = NULL;
        vm_db_prepare(ctx->db, "SELECT span, count(*) FROM metric_data GROUP BY span ORDER BY span", &st, &err);
        printf("after %.1f simulated hours (%.0f s to simulate): store %.1f MiB;", hours, ms_since(&c0) / 1e3,
               (file_size(ctx->state_dir, "state.db") + file_size(ctx->state_dir, "state.db-wal")) / 1048576.0);
        while (sqlite3_step(st) == SQLITE_ROW)
            printf(" %lld points of span %d s", (long long)sqlite3_column_int64(st, 1), sqlite3_column_int(st, 0));
        printf("\n");
        sqlite3_finalize(st);
    }
    sampler_free(s);
    vm_ctx_free(ctx);
    free(ms);
    return 0;
}
