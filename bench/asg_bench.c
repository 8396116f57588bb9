/* The Auto Scaling controller's cost per round with G groups of K InService instances each, and
 * OUTSIDE more running instances that belong to no group: the round must not grow with OUTSIDE.
 * Records only (libvirt's test driver for the context; the controller reads the store, and a group
 * at its desired capacity launches nothing), so the round is the real one: every group's activities,
 * members, health (each member's instance), policies, warm pool.
 *
 *   asg_bench STATE_DIR G K OUTSIDE ROUNDS
 * prints the median and p95 ms per round. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../autoscaling/asg_priv.h"
#include "../vmmgr/compute/instance.h"
#include "../vmmgr/core/db.h"

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void
instance(vm_ctx *ctx, const char *id)
{
    sqlite3_stmt *st = NULL;
    vm_error err = { 0 };
    vm_db_prepare(ctx->db,
                  "INSERT INTO instances (id, reservation_id, image_id, instance_type, launch_index, state, "
                  "launch_step, launched_at, changed_at, disk_path, console_path) VALUES (?, 'r-0', 'ami-0', "
                  "'t3.micro', 0, ?, 3, 0, 0, '', '')",
                  &st, &err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, INST_RUNNING);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

int
main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: asg_bench STATE_DIR G K OUTSIDE ROUNDS\n");
        return 2;
    }
    int groups = atoi(argv[2]), k = atoi(argv[3]), outside = atoi(argv[4]), rounds = atoi(argv[5]);
    vm_error err = { 0 };
    vm_ctx *ctx = vm_ctx_new(argv[1], "test:///default", &err);
    if (!ctx) {
        fprintf(stderr, "asg_bench: %s\n", err.msg);
        return 1;
    }
    vm_db_exec(ctx->db, "PRAGMA foreign_keys = OFF", &err);
    vm_db_exec(ctx->db, "BEGIN", &err);
    vm_db_exec(ctx->db, "INSERT INTO reservations (id, request, created_at) VALUES ('r-0', '', 0)", &err);
    for (int i = 0; i < outside; i++) {
        char id[VM_ID_MAX];
        vm_id_new("i", id);
        instance(ctx, id);
    }
    for (int g = 0; g < groups; g++) {
        asg_group grp = { .min_size = 0, .max_size = k, .desired = k, .default_cooldown = 300,
                          .health_check_type = "EC2", .nsubnets = 1, .created_at = time(NULL) };
        snprintf(grp.name, sizeof(grp.name), "g%03d", g);
        snprintf(grp.arn, sizeof(grp.arn), "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:x:autoScalingGroupName/%s",
                 grp.name);
        snprintf(grp.template_id, sizeof(grp.template_id), "lt-0123456789abcdef0");
        snprintf(grp.template_version, sizeof(grp.template_version), "$Default");
        snprintf(grp.subnets[0], VM_ID_MAX, "subnet-0123456789abcdef0");
        snprintf(grp.termination_policies, sizeof(grp.termination_policies), "Default");
        /* asg_create has its own transaction: the rows directly here */
        sqlite3_stmt *st = NULL;
        vm_db_prepare(ctx->db,
                      "INSERT INTO asg_groups (name, arn, template_id, template_version, min_size, max_size, desired, "
                      "default_cooldown, health_check_type, grace_period, subnets, termination_policies, "
                      "protect_new, created_at) VALUES (?, ?, ?, '$Default', 0, ?, ?, 300, 'EC2', 0, ?, 'Default', 0, 0)",
                      &st, &err);
        sqlite3_bind_text(st, 1, grp.name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, grp.arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, grp.template_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, k);
        sqlite3_bind_int(st, 5, k);
        sqlite3_bind_text(st, 6, grp.subnets[0], -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
        for (int i = 0; i < k; i++) {
            asg_member m = { .template_version = 1, .added_at = time(NULL) };
            vm_id_new("i", m.instance_id);
            instance(ctx, m.instance_id);
            snprintf(m.lifecycle, sizeof(m.lifecycle), "InService");
            snprintf(m.health, sizeof(m.health), "Healthy");
            snprintf(m.subnet_id, sizeof(m.subnet_id), "%s", grp.subnets[0]);
            asg_member_add(ctx, grp.name, &m, "a", &err);
        }
    }
    vm_db_exec(ctx->db, "COMMIT", &err);
    if (err.code) {
        fprintf(stderr, "asg_bench: %s\n", err.msg);
        return 1;
    }
    double *ms = calloc((size_t)rounds, sizeof(double));
    for (int r = 0; r < rounds; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (asg_controller_round(ctx, &err) < 0) {
            fprintf(stderr, "asg_bench: %s\n", err.msg);
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms[r] = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    }
    qsort(ms, (size_t)rounds, sizeof(double), cmp_double);
    printf("%d groups of %d, %d instances outside them: %.2f ms median, %.2f ms p95 per controller round\n", groups, k,
           outside, ms[rounds / 2], ms[rounds * 95 / 100]);
    vm_ctx_free(ctx);
    free(ms);
    return 0;
}
