#include "top.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../compute/domstats.h"
#include "../compute/instance.h"
#include "../core/cleanup.h"
#include "../core/db.h"

typedef struct line {
    char id[VM_ID_MAX], type[32], state[16];
    double cpu, rx, tx, rd, wr; /* percent of its vCPUs; KiB/s */
    bool has;
} line;

static int
by_cpu(const void *a, const void *b)
{
    const line *x = a, *y = b;
    return (y->cpu > x->cpu) - (y->cpu < x->cpu);
}

static double
rate(unsigned long long cur, unsigned long long old, double dt)
{
    return cur >= old ? (double)(cur - old) / 1024.0 / dt : 0;
}

static unsigned long long
disk_sum(const domstat *d, bool write)
{
    unsigned long long v = 0;
    for (size_t i = 0; i < d->nblocks; i++)
        v += write ? d->blocks[i].wr_bytes : d->blocks[i].rd_bytes;
    return v;
}

/* one frame: the instances of the store that are not terminated, with rates from old to cur */
static int
frame(vm_ctx *ctx, const domstat *old, size_t nold, const domstat *cur, size_t ncur, double dt, bool tty,
      vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id, instance_type, state FROM instances WHERE state != ? ORDER BY id",
                   "i", (long long)INST_TERMINATED) < 0)
        return -1;
    line *lines = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            line *x = realloc(lines, cap * sizeof(*lines));
            if (!x) {
                free(lines);
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            }
            lines = x;
        }
        line *l = &lines[n++];
        memset(l, 0, sizeof(*l));
        snprintf(l->id, sizeof(l->id), "%s", vm_db_text(st, 0));
        snprintf(l->type, sizeof(l->type), "%s", vm_db_text(st, 1));
        snprintf(l->state, sizeof(l->state), "%s", inst_state_to_string((inst_state)sqlite3_column_int(st, 2)));
        const domstat *c = domstats_find(cur, ncur, l->id), *o = domstats_find(old, nold, l->id);
        if (!c || !o || !c->running || !o->running || c->id != o->id || !c->vcpus)
            continue;
        l->has = true;
        l->cpu = c->vcpu_ns >= o->vcpu_ns ? 100.0 * (double)(c->vcpu_ns - o->vcpu_ns) / (dt * 1e9 * c->vcpus) : 0;
        l->rx = rate(c->rx_bytes, o->rx_bytes, dt);
        l->tx = rate(c->tx_bytes, o->tx_bytes, dt);
        l->rd = rate(disk_sum(c, false), disk_sum(o, false), dt);
        l->wr = rate(disk_sum(c, true), disk_sum(o, true), dt);
    }
    if (rc != SQLITE_DONE) {
        free(lines);
        return vm_db_error(ctx->db, "listing instances", err);
    }
    qsort(lines, n, sizeof(*lines), by_cpu);
    size_t running = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        running += lines[i].has;
        total += lines[i].cpu;
    }
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
    if (tty)
        fputs("\033[H\033[2J", stdout);
    printf("vmmgr top - %s  %zu instances, %zu running, over %.1f s\n", when, n, running, dt);
    printf("%-21s %-10s %-13s %6s %10s %10s %10s %10s\n", "INSTANCE", "TYPE", "STATE", "%CPU", "NET-RX K/s",
           "NET-TX K/s", "DISK-RD K/s", "DISK-WR K/s");
    for (size_t i = 0; i < n; i++) {
        const line *l = &lines[i];
        if (l->has)
            printf("%-21s %-10s %-13s %6.1f %10.1f %10.1f %10.1f %10.1f\n", l->id, l->type, l->state, l->cpu, l->rx,
                   l->tx, l->rd, l->wr);
        else
            printf("%-21s %-10s %-13s %6s %10s %10s %10s %10s\n", l->id, l->type, l->state, "-", "-", "-", "-", "-");
    }
    if (!tty)
        printf("\n");
    fflush(stdout);
    free(lines);
    (void)total;
    return 0;
}

int
cli_top(vm_ctx *ctx, int argc, char **argv)
{
    double delay = 2;
    long iterations = -1;
    for (int i = 0; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--delay") == 0 && i + 1 < argc) {
            delay = strtod(argv[++i], &end);
            if (*end || !(delay >= 0.1 && delay <= 3600)) {
                fprintf(stderr, "vmmgr top: --delay takes seconds from 0.1 to 3600, not '%s'\n", argv[i]);
                return 252;
            }
        } else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            iterations = strtol(argv[++i], &end, 10);
            if (*end || iterations < 1) {
                fprintf(stderr, "vmmgr top: --iterations takes a count from 1, not '%s'\n", argv[i]);
                return 252;
            }
        } else {
            fprintf(stderr, "usage: vmmgr top [--delay SECONDS] [--iterations N]\n");
            return 252;
        }
    }
    bool tty = isatty(STDOUT_FILENO);
    if (iterations < 0)
        iterations = tty ? 0 : 1; /* 0: until interrupted */
    vm_error err = { 0 };
    virConnectPtr conn = vm_ctx_conn(ctx, &err);
    domstat *old = NULL, *cur = NULL;
    size_t nold = 0, ncur = 0;
    struct timespec t0, t1;
    if (!conn || domstats_read(conn, &old, &nold, &err) < 0) {
        fprintf(stderr, "vmmgr top: %s\n", err.msg);
        return 254;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long k = 0; iterations == 0 || k < iterations; k++) {
        struct timespec pause = { (time_t)delay, (long)((delay - (time_t)delay) * 1e9) };
        nanosleep(&pause, NULL);
        if (domstats_read(conn, &cur, &ncur, &err) < 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double dt = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (frame(ctx, old, nold, cur, ncur, dt, tty, &err) < 0)
            break;
        domstats_free(old, nold);
        old = cur, nold = ncur, t0 = t1;
        cur = NULL, ncur = 0;
    }
    domstats_free(old, nold);
    domstats_free(cur, ncur);
    if (err.msg[0]) {
        fprintf(stderr, "vmmgr top: %s\n", err.msg);
        return 254;
    }
    return 0;
}
