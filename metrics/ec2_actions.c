/* The EC2 actions of CloudWatch alarms (arn:aws:automate:REGION:ec2:stop|terminate|reboot), run by the
 * daemon's loop after each evaluation: the transitions queued them (metrics/alarms.h); each runs as the
 * matching EC2 call on the alarm's instance would (termination protection and disableApiStop refuse,
 * as they refuse those calls), and its outcome becomes the alarm's Action history entry. */
#include "ec2_actions.h"

#include <stdlib.h>
#include <string.h>

#include "../vmmgr/compute/instance.h"
#include "../vmmgr/core/cleanup.h"
#include "alarms.h"

typedef struct queued {
    alarm_ec2_action a;
    char *alarm, *arn, *instance_id;
} queued;

typedef struct queue {
    queued *q;
    size_t n, cap;
} queue;

static int
take(void *opaque, const alarm_ec2_action *a, vm_error *err)
{
    queue *qs = opaque;
    if (qs->n == qs->cap) {
        size_t cap = qs->cap ? qs->cap * 2 : 8;
        queued *q = realloc(qs->q, cap * sizeof(*q));
        if (!q)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        qs->q = q;
        qs->cap = cap;
    }
    queued *e = &qs->q[qs->n];
    *e = (queued){ .alarm = strdup(a->alarm), .arn = strdup(a->arn), .instance_id = strdup(a->instance_id) };
    e->a = (alarm_ec2_action){ a->id, e->alarm, e->arn, e->instance_id };
    qs->n++;
    if (!e->alarm || !e->arn || !e->instance_id)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

/* runs one; its error (none: 0) in *ran */
static int
run_one(vm_ctx *ctx, const alarm_ec2_action *a, vm_error *ran)
{
    const char *verb = alarm_ec2_verb(a->arn);
    const char *ids[] = { a->instance_id };
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (!verb)
        return vm_error_set(ran, VM_ERR_INVALID_PARAMETER_VALUE, "not an EC2 action");
    if (inst_get_ids(ctx, ids, 1, &insts, ran) < 0)
        return -1;
    if (strcmp(verb, "stop") == 0)
        return inst_stop_list(ctx, insts, false, false, false, NULL, ran);
    if (strcmp(verb, "terminate") == 0)
        return inst_terminate_list(ctx, insts, false, true, NULL, ran);
    return inst_reboot_list(ctx, insts, false, ran);
}

int
alarm_ec2_run(vm_ctx *ctx, size_t *ret_ran, vm_error *err)
{
    queue qs = { 0 };
    int rc = alarm_ec2_pending(ctx, take, &qs, err);
    size_t ran = 0;
    for (size_t i = 0; rc == 0 && i < qs.n; i++) {
        vm_error e = { 0 };
        run_one(ctx, &qs.q[i].a, &e);
        rc = alarm_ec2_done(ctx, &qs.q[i].a, e.code ? e.msg : NULL, time(NULL), err);
        ran += rc == 0;
    }
    for (size_t i = 0; i < qs.n; i++) {
        free(qs.q[i].alarm);
        free(qs.q[i].arn);
        free(qs.q[i].instance_id);
    }
    free(qs.q);
    if (ret_ran)
        *ret_ran = ran;
    return rc;
}
