#include "wait.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../compute/instance.h"
#include "../services/ec2/dispatch.h"
#include "commands.h"

#define EXIT_WAITER 255

typedef struct waiter {
    const char *name;
    const char *title;
    const char *action;       /* DescribeInstances or DescribeImages */
    const char *success;      /* every instance in this state */
    const char *const *fails; /* any instance in one of these */
    bool any;                 /* success as soon as one instance exists */
} waiter;

static const waiter waiters[] = {
    { "instance-running", "InstanceRunning", "DescribeInstances", "running",
      (const char *const[]){ "shutting-down", "terminated", "stopping", NULL }, false },
    { "instance-stopped", "InstanceStopped", "DescribeInstances", "stopped", (const char *const[]){ "pending", "terminated", NULL },
      false },
    { "instance-terminated", "InstanceTerminated", "DescribeInstances", "terminated", (const char *const[]){ "pending", "stopping", NULL },
      false },
    { "instance-exists", "InstanceExists", "DescribeInstances", NULL, (const char *const[]){ NULL }, true },
    { "image-available", "ImageAvailable", "DescribeImages", "available", (const char *const[]){ "failed", NULL },
      false },
    { "image-exists", "ImageExists", "DescribeImages", NULL, (const char *const[]){ NULL }, true },
    { "volume-available", "VolumeAvailable", "DescribeVolumes", "available", (const char *const[]){ "deleted", NULL },
      false },
    { "volume-in-use", "VolumeInUse", "DescribeVolumes", "in-use", (const char *const[]){ "deleted", NULL }, false },
    { "volume-deleted", "VolumeDeleted", "DescribeVolumes", "deleted", (const char *const[]){ NULL }, false },
    { "snapshot-completed", "SnapshotCompleted", "DescribeSnapshots", "completed", (const char *const[]){ "error", NULL },
      false },
};

const cli_opt cli_wait_opts[] = {
    { "instance-ids", CLI_OPT_LIST, "InstanceId", "instance ids" },
    { "image-ids", CLI_OPT_LIST, "ImageId", "image ids" },
    { "volume-ids", CLI_OPT_LIST, "VolumeId", "volume ids" },
    { "snapshot-ids", CLI_OPT_LIST, "SnapshotId", "snapshot ids" },
    { "filters", CLI_OPT_SHORTHAND, "Filter", "Name=NAME,Values=V1,V2 …" },
    { NULL, 0, NULL, NULL },
};
static const cli_cmd wait_cmd = { "wait", "DescribeInstances", cli_wait_opts, "Wait for instances", false };

const char *
cli_waiter_name(size_t i)
{
    return i < sizeof(waiters) / sizeof(waiters[0]) ? waiters[i].name : NULL;
}

void
cli_wait_usage(void)
{
    printf("usage: vmmgr wait WAITER [--instance-ids ID …] [--filters …]\n\nWaiters:\n");
    for (size_t i = 0; i < sizeof(waiters) / sizeof(waiters[0]); i++)
        printf("  %s\n", waiters[i].name);
    printf("\nOptions:\n");
    for (const cli_opt *o = cli_wait_opts; o->name; o++)
        printf("  --%-22s %s\n", o->name, o->help);
}

/* 1 success, 0 keep waiting, -1 failure state reached (state named in bad) */
static int
check(const waiter *w, const vm_node *resp, char *bad, size_t badlen)
{
    int seen = 0, ok = 0;
    /* the items: instances of every reservation, or images */
    const vm_node *rs = vm_node_child(resp, "reservationSet");
    vm_node images = { .first = NULL };
    const char *set = "instancesSet", *state_field = "imageState";
    if (vm_node_child(resp, "snapshotSet")) {
        set = "snapshotSet";
        state_field = "status";
    } else if (vm_node_child(resp, "volumeSet")) {
        set = "volumeSet";
        state_field = "status";
    } else if (vm_node_child(resp, "imagesSet")) {
        set = "imagesSet";
    }
    if (!rs) {
        images.first = (vm_node *)resp; /* a one-element "reservation" that is the response itself */
        rs = &images;
    }
    for (const vm_node *r = rs ? rs->first : NULL; r; r = r->next) {
        const vm_node *is = vm_node_child(r, set);
        for (const vm_node *i = is ? is->first : NULL; i; i = i->next) {
            const vm_node *name = rs == &images ? vm_node_child(i, state_field)
                                                : vm_node_child(vm_node_child(i, "instanceState"), "name");
            const char *state = name ? name->str : "";
            seen++;
            if (w->success && strcmp(state, w->success) == 0)
                ok++;
            for (const char *const *f = w->fails; *f; f++)
                if (strcmp(state, *f) == 0) {
                    snprintf(bad, badlen, "%s", state);
                    return -1;
                }
        }
    }
    if (w->any)
        return seen > 0;
    return seen > 0 && ok == seen;
}

int
cli_wait(vm_ctx *ctx, int argc, char **argv)
{
    if (argc < 1) {
        cli_wait_usage();
        return 252;
    }
    const waiter *w = NULL;
    for (size_t i = 0; i < sizeof(waiters) / sizeof(waiters[0]); i++)
        if (strcmp(waiters[i].name, argv[0]) == 0)
            w = &waiters[i];
    if (!w) {
        fprintf(stderr, "vmmgr wait: unknown waiter '%s'\n", argv[0]);
        return 252;
    }
    vm_error err = { 0 };
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    if (!p || cli_args_to_params(&wait_cmd, argc - 1, argv + 1, p, &err) < 0) {
        fprintf(stderr, "vmmgr wait: %s\n", err.msg);
        return 252;
    }
    const char *d = getenv("VMMGR_WAIT_DELAY"), *t = getenv("VMMGR_WAIT_TIMEOUT");
    double delay = d ? atof(d) : 2.0;
    int timeout = t ? atoi(t) : 600;
    time_t end = time(NULL) + timeout;
    for (bool first = true;; first = false) {
        vm_node *resp = NULL;
        vm_error e = { 0 };
        /* with no daemon, the waiter is what moves things on: what finishes in the background (a
         * guest letting a volume go) is settled by reconcile before each look */
        if (!first)
            inst_reconcile(ctx, &e);
        e = (vm_error){ 0 };
        char bad[32] = "";
        int rc = 0;
        if (vm_dispatch(ctx, "cli", w->action, p, &resp, &e) == 0) {
            rc = check(w, resp, bad, sizeof(bad));
            vm_node_free(resp);
        } else if (e.code == VM_ERR_VOLUME_NOT_FOUND && strcmp(w->name, "volume-deleted") == 0) {
            return 0; /* gone: that is what was waited for */
        } else if (e.code != VM_ERR_INSTANCE_NOT_FOUND && e.code != VM_ERR_AMI_NOT_FOUND &&
                   e.code != VM_ERR_VOLUME_NOT_FOUND) {
            fprintf(stderr, "Waiter %s failed: %s: %s\n", w->title, vm_error_code_name(e.code), e.msg);
            return EXIT_WAITER;
        }
        if (rc > 0)
            return 0;
        if (rc < 0) {
            fprintf(stderr, "Waiter %s failed: Waiter encountered a terminal failure state: an instance is %s\n",
                    w->title, bad);
            return EXIT_WAITER;
        }
        if (time(NULL) >= end) {
            fprintf(stderr, "Waiter %s failed: Max attempts exceeded (%d s)\n", w->title, timeout);
            return EXIT_WAITER;
        }
        usleep((useconds_t)(delay * 1e6));
    }
}
