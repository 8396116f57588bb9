/* Between Auto Scaling's store and its controller. */
#pragma once

#include "asg.h"

#define ASG_MAX_TAGS 50

typedef struct asg_activity {
    const char *id, *group, *kind, *subnet_id, *instance_id, *description, *cause;
    time_t start_time;
    char id_buf[64], kind_buf[16], subnet_buf[VM_ID_MAX], instance_buf[VM_ID_MAX]; /* asg_activities_open's */
} asg_activity;

typedef struct asg_tag_list {
    char *keys[ASG_MAX_TAGS], *values[ASG_MAX_TAGS];
    size_t n;
} asg_tag_list;

void asg_split_subnets(const char *text, asg_group *g);
void asg_new_activity_id(char buf[64]);
/* Records why the capacity changed ("At <time> a user request …"), for the cause of the activities
 * the change leads to; asg_last_cause reads it back. */
int asg_note_cause(vm_ctx *ctx, const char *group, const char *cause, vm_error *err);
int asg_last_cause(vm_ctx *ctx, const char *group, char *buf, size_t len);

int asg_member_add(vm_ctx *ctx, const char *group, const asg_member *m, const char *activity, vm_error *err);
/* NULL leaves a field as it is. */
int asg_member_set(vm_ctx *ctx, const char *instance_id, const char *lifecycle, const char *health, vm_error *err);
int asg_member_remove(vm_ctx *ctx, const char *instance_id, vm_error *err);

/* A new activity, InProgress. */
int asg_activity_add(vm_ctx *ctx, const asg_activity *a, vm_error *err);
/* NULL leaves a field as it is; a final status sets the end time. */
int asg_activity_set(vm_ctx *ctx, const char *id, const char *instance_id, const char *description, const char *status,
                     const char *message, int progress, vm_error *err);
/* The group's activities in progress, oldest first; owned array. */
int asg_activities_open(vm_ctx *ctx, const char *group, asg_activity **ret, size_t *ret_n, vm_error *err);

int asg_tags_propagated(vm_ctx *ctx, const char *group, asg_tag_list *ret, vm_error *err);
void asg_tag_list_free(asg_tag_list *l);

/* A member on its way out (Terminating, :Wait, :Proceed); the time now as Auto Scaling writes it. */
bool asg_member_terminating(const asg_member *m);
void asg_now_text(char *buf, size_t len);
/* asg_set_desired inside the caller's transaction. */
int asg_set_desired_locked(vm_ctx *ctx, const char *name, long desired, const char *cause, vm_error *err);
/* Records a termination of member m of group (an activity; the member Terminating; desired set to
 * new_desired unless it is negative) and issues it. */
int asg_start_terminate(vm_ctx *ctx, const char *group, const asg_member *m, const char *cause, char ret_id[64],
                        long new_desired, vm_error *err);

/* Scaling policies (policy.c) */
#define ASG_MAX_STEPS 20
typedef struct asg_step {
    double lower, upper;
    bool has_lower, has_upper;
    long adjustment;
} asg_step;

typedef struct asg_policy {
    char arn[704], group[ASG_NAME_MAX + 1], name[256], type[32], adjustment_type[32];
    long scaling_adjustment, min_adjustment_magnitude, cooldown, warmup; /* -1: not given */
    asg_step steps[ASG_MAX_STEPS];
    size_t nsteps;
    char metric_aggregation[16];
    /* target tracking: the predefined type or "Custom", the target, the metric as
     * "namespace\nname\nstatistic\nperiod\nunit\nK=V\n…" */
    char tt_metric[40];
    double tt_target;
    bool tt_disable_scale_in;
    char tt_spec[2048];
    bool enabled;
    time_t last_executed;
} asg_policy;

/* By name or ARN, in group (NULL: any): ValidationError when there is none. */
int asg_policy_get(vm_ctx *ctx, const char *group, const char *name, asg_policy *ret, vm_error *err);
/* Creates or replaces (same name: same ARN); a target tracking policy's two alarms are made. */
int asg_policy_put(vm_ctx *ctx, asg_policy *p, vm_error *err);
int asg_policy_delete(vm_ctx *ctx, const asg_policy *p, vm_error *err);
int asg_policies_delete_group(vm_ctx *ctx, const char *group, vm_error *err);
int asg_policies_render(vm_ctx *ctx, const char *group, const char *const *names, const char *const *types, long offset,
                        long max, vm_node *list, bool *ret_more, vm_error *err);
/* ExecutePolicy (and an alarm's action): trigger is "a monitor alarm X in state ALARM triggered" or
 * "a user request executed"; value/threshold for step policies. */
int asg_policy_execute(vm_ctx *ctx, asg_group *g, const asg_policy *p, bool honor_cooldown, bool has_value,
                       double value, double threshold, const char *trigger, vm_error *err);
/* The controller's part: the group's policies whose alarms are in ALARM. */
int asg_policies_round(vm_ctx *ctx, asg_group *g, const asg_member *ms, size_t n, vm_error *err);

/* Warm pools (warmpool.c) */
typedef struct asg_warm_pool {
    bool exists, deleting, reuse;
    long min_size, max_prepared; /* -1: MaxSize */
    char pool_state[16];         /* Stopped | Hibernated | Running */
} asg_warm_pool;
/* ret->exists is false when the group has none. */
int asg_warm_pool_get(vm_ctx *ctx, const char *group, asg_warm_pool *ret, vm_error *err);
int asg_warm_pool_put(vm_ctx *ctx, const char *group, const asg_warm_pool *wp, vm_error *err);
/* PendingDelete (its instances go first), or gone now. */
int asg_warm_pool_set_deleting(vm_ctx *ctx, const char *group, bool remove_now, vm_error *err);
/* How many instances the pool should hold now. */
long asg_warm_pool_target(const asg_group *g, const asg_warm_pool *wp);
bool asg_warmed(const asg_member *m);
bool asg_warm_ready(const asg_member *m);

/* Suspended processes (store.c): Launch, Terminate, HealthCheck, ReplaceUnhealthy, AlarmNotification
 * stop the controller's part of that name; the others are recorded. */
extern const char *const asg_processes[];
/* procs (n = 0: every process) suspended or resumed. */
int asg_processes_set(vm_ctx *ctx, const char *group, const char *const *procs, size_t n, bool suspend, vm_error *err);
bool asg_suspended(vm_ctx *ctx, const char *group, const char *process);
int asg_suspended_render(vm_ctx *ctx, vm_node *list, const char *group, vm_error *err);

/* Standby (controller.c): InService members out of service (desired lowered when decrement), and back. */
int asg_enter_standby(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, bool decrement,
                      vm_node *activities, vm_error *err);
int asg_exit_standby(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, vm_node *activities,
                     vm_error *err);

/* Lifecycle hooks (lifecycle.c) */
#define ASG_HOOK_LAUNCHING "autoscaling:EC2_INSTANCE_LAUNCHING"
#define ASG_HOOK_TERMINATING "autoscaling:EC2_INSTANCE_TERMINATING"
#define ASG_MAX_HOOKS 50
typedef struct asg_hook {
    char name[256], transition[48], default_result[16];
    char metadata[1024], target_arn[1600], role_arn[1600];
    long heartbeat;
} asg_hook;
long asg_hook_global_timeout(long heartbeat);
/* 1 found, 0 none, -1 */
int asg_hook_get(vm_ctx *ctx, const char *group, const char *name, asg_hook *ret, vm_error *err);
/* The group's hooks of transition (NULL: all). */
int asg_hooks_count(vm_ctx *ctx, const char *group, const char *transition, vm_error *err);
/* Creates or replaces; inside the caller's transaction if it has one. */
int asg_hook_put(vm_ctx *ctx, const char *group, const asg_hook *h, vm_error *err);
/* Its open actions end with ABANDON (launch) or CONTINUE (termination). */
int asg_hook_delete(vm_ctx *ctx, const char *group, const char *name, vm_error *err);
int asg_hooks_render(vm_ctx *ctx, const char *group, const char *const *names, size_t nnames, vm_node *list,
                     vm_error *err);
enum { ASG_GATE_PROCEED = 1, ASG_GATE_WAIT = 0, ASG_GATE_ABANDON = 2 };
/* Where instance stands at transition's hooks: not yet waiting, its wait begins (WAIT) unless the
 * group has no such hook (PROCEED); waiting, WAIT until every action has a result (given, or the
 * default once its timeout passed), then PROCEED or ABANDON.  -1 on error. */
int asg_hooks_gate(vm_ctx *ctx, const char *group, const char *instance_id, const char *transition, bool waiting,
                   vm_error *err);
/* The instance's actions, once its wait is over. */
int asg_hooks_clear(vm_ctx *ctx, const char *instance_id, vm_error *err);
/* CompleteLifecycleAction / RecordLifecycleActionHeartbeat: by token, or by instance id. */
int asg_hook_complete(vm_ctx *ctx, const char *group, const char *hook, const char *token, const char *instance_id,
                      const char *result, vm_error *err);
int asg_hook_heartbeat(vm_ctx *ctx, const char *group, const char *hook, const char *token, const char *instance_id,
                       vm_error *err);

/* Instance refresh (refresh.c) */
typedef struct asg_refresh {
    char id[40], group[ASG_NAME_MAX + 1], status[24], reason[256];
    time_t start_time, end_time, batch_done_at; /* batch_done_at -1: a batch is being replaced */
    long min_healthy, warmup, to_update, remaining;
    bool skip_matching;
    char template_id[VM_ID_MAX], template_version[32]; /* DesiredConfiguration, or empty */
} asg_refresh;
/* Records r (min_healthy, warmup, skip_matching, template given) as Pending with the instances to
 * replace; the group takes the desired template at once.  r->id is set. */
int asg_refresh_start(vm_ctx *ctx, const asg_group *g, asg_refresh *r, vm_error *err);
int asg_refresh_cancel(vm_ctx *ctx, const char *group, char ret_id[40], vm_error *err);
/* The controller's part: the next batch when the group is ready for it. */
int asg_refresh_round(vm_ctx *ctx, const asg_group *g, asg_member *ms, size_t n, vm_error *err);
int asg_refreshes_render(vm_ctx *ctx, const char *group, const char *const *ids, size_t nids, long offset, long max,
                         vm_node *list, bool *ret_more, vm_error *err);
/* asg_update inside the caller's transaction. */
int asg_update_locked(vm_ctx *ctx, const asg_group *g, const char *cause, vm_error *err);

/* Scheduled actions (scheduled.c) */
typedef struct asg_scheduled {
    char group[ASG_NAME_MAX + 1], name[256], arn[800], recurrence[256], time_zone[128];
    time_t start_time, end_time, next_run;
    long min_size, max_size, desired; /* -1: not given */
} asg_scheduled;
typedef struct asg_scheduled_filter {
    const char *group;        /* NULL: every group */
    const char *const *names; /* nnames of them, or none */
    size_t nnames;
    time_t start, end; /* next runs within, end 0: no end */
    long offset, max;
} asg_scheduled_filter;
/* The first minute at or after `after` that the cron expression names in zone tz (NULL or "":
 * UTC); 0 when the expression is not valid or names no time within four years. */
time_t asg_cron_next(const char *recurrence, const char *tz, time_t after);
/* ValidationError when the expression or the zone is not valid. */
int asg_cron_check(const char *recurrence, const char *tz, vm_error *err);
/* Creates or replaces; sets a->next_run (ValidationError when there is no run ahead). */
int asg_scheduled_put(vm_ctx *ctx, asg_scheduled *a, vm_error *err);
int asg_scheduled_get(vm_ctx *ctx, const char *group, const char *name, asg_scheduled *ret, vm_error *err);
int asg_scheduled_delete(vm_ctx *ctx, const char *group, const char *name, vm_error *err);
int asg_scheduled_render(vm_ctx *ctx, const asg_scheduled_filter *f, vm_node *list, bool *ret_more, vm_error *err);
/* Runs the group's due actions (g is updated). */
int asg_scheduled_round(vm_ctx *ctx, asg_group *g, vm_error *err);

/* AttachInstances: running instances in the group's subnets, of no group, join it (desired grows);
 * DetachInstances: members leave it, their instances keep running. */
int asg_attach(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, vm_error *err);
int asg_detach(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, bool decrement, vm_node *activities,
               vm_error *err);

/* Load balancing (elb.c): a group's target groups (ids, owned); set (replace: the others detached,
 * their targets draining) and detach; the round registering InService members and draining the
 * rest, with the ELB health check; 1 when instance_id has drained from the group's target groups
 * (its drain started when not yet), 0 while draining. */
#include "../elb/elb.h"
int asg_tgs_of(vm_ctx *ctx, const char *group, char (**ret)[ELB_ID_LEN + 1], size_t *n, vm_error *err);
int asg_tgs_set(vm_ctx *ctx, const char *group, const char (*ids)[ELB_ID_LEN + 1], size_t n, bool replace,
                vm_error *err);
int asg_tgs_detach(vm_ctx *ctx, const char *group, const char (*ids)[ELB_ID_LEN + 1], size_t n, vm_error *err);
int asg_tgs_render(vm_ctx *ctx, vm_node *list, const char *group, vm_error *err);
int asg_elb_round(vm_ctx *ctx, const asg_group *g, asg_member *ms, size_t n, vm_error *err);
int asg_elb_drained(vm_ctx *ctx, const asg_group *g, const char *instance_id, vm_error *err);
/* A deleted group's targets go at once (its instances are gone). */
int asg_elb_forget(vm_ctx *ctx, const char *group, vm_error *err);
