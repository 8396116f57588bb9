/* EC2 Auto Scaling groups: the store (groups, their instances, activities, tags) and the group
 * controller that `vmmgr serve` runs.
 *
 * The controller converges each group's InService capacity to its desired capacity.  Every action
 * it takes is an activity recorded before it is taken: a launch's activity id is the client token
 * of its RunInstances (compute/instance.h), so after a kill -9 the next round repeats the launch,
 * gets the reservation it already made and adopts its instance instead of launching another; a
 * termination's activity names its instance, and terminating twice is harmless. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/ids.h"
#include "../vmmgr/core/node.h"

#define ASG_NAME_MAX 255
#define ASG_MAX_SUBNETS 16
#define ASG_MAX_SIZE 100

typedef struct asg_tag {
    const char *key, *value;
    bool propagate;
} asg_tag;

/* A group's configuration, as Create/UpdateAutoScalingGroup give it. */
typedef struct asg_group {
    char name[ASG_NAME_MAX + 1];
    char arn[512];
    char template_id[VM_ID_MAX];
    char template_version[32]; /* "$Default", "$Latest" or a number */
    long min_size, max_size, desired;
    long default_cooldown, grace_period;
    char health_check_type[8]; /* EC2 | ELB */
    char subnets[ASG_MAX_SUBNETS][VM_ID_MAX];
    size_t nsubnets;
    char termination_policies[256]; /* comma-separated */
    bool protect_new, deleting;
    time_t created_at;
} asg_group;

/* One member: an instance of the group and where it is in its life. */
typedef struct asg_member {
    char instance_id[VM_ID_MAX];
    char lifecycle[32]; /* Pending, InService, Terminating, … */
    char health[16];    /* Healthy | Unhealthy */
    char subnet_id[VM_ID_MAX];
    long template_version;
    bool protected_;
    time_t added_at;
} asg_member;

/* Store: 0 or -1 with err; AlreadyExists, ValidationError as Auto Scaling names them. */
struct asg_hook; /* asg_priv.h */
int asg_create(vm_ctx *ctx, const asg_group *g, const asg_tag *tags, size_t ntags, const struct asg_hook *hooks,
               size_t nhooks, vm_error *err);
/* Replaces the configuration of g->name (the caller merged what the request left out). */
int asg_update(vm_ctx *ctx, const asg_group *g, const char *cause, vm_error *err);
/* ValidationError "AutoScalingGroup name not found" when there is none. */
int asg_get(vm_ctx *ctx, const char *name, asg_group *ret, vm_error *err);
/* Every group's name, NULL-terminated, owned. */
int asg_names(vm_ctx *ctx, char ***ret, vm_error *err);
int asg_members(vm_ctx *ctx, const char *name, asg_member **ret, size_t *ret_n, vm_error *err);
/* A member by instance id: 1 found, 0 not a member. */
int asg_member_of(vm_ctx *ctx, const char *instance_id, char group[ASG_NAME_MAX + 1], asg_member *ret, vm_error *err);
/* Marks the group for deletion (ForceDelete: its instances go first; the controller removes it). */
int asg_mark_deleting(vm_ctx *ctx, const char *name, vm_error *err);
/* Deletes a group that has no instance now. */
int asg_delete_now(vm_ctx *ctx, const char *name, vm_error *err);
/* Sets the desired capacity (within bounds, checked by the caller) and records why. */
int asg_set_desired(vm_ctx *ctx, const char *name, long desired, const char *cause, vm_error *err);
/* Whether the group has an activity in progress. */
int asg_busy(vm_ctx *ctx, const char *name, vm_error *err);

/* Tags (ResourceType auto-scaling-group, ResourceId the group's name). */
int asg_tags_put(vm_ctx *ctx, const char *group, const asg_tag *tags, size_t n, vm_error *err);
int asg_tags_delete(vm_ctx *ctx, const char *group, const char *const *keys, size_t n, vm_error *err);
/* Appends Tags.member {ResourceId, ResourceType, Key, Value, PropagateAtLaunch} of group (NULL: every
 * group) to list. */
int asg_tags_render(vm_ctx *ctx, vm_node *list, const char *group, vm_error *err);

/* Activities, newest first. */
typedef struct asg_activity_filter {
    const char *group;           /* NULL: every group */
    const char *const *ids;      /* NULL-terminated, or NULL */
    long offset, max;
} asg_activity_filter;
int asg_activities_render(vm_ctx *ctx, const asg_activity_filter *f, vm_node *list, bool *ret_more, vm_error *err);
/* The Activity shape of activity id into it. */
int asg_activity_render(vm_ctx *ctx, vm_node *it, const char *id, vm_error *err);

/* TerminateInstanceInAutoScalingGroup: records the termination (an activity) and, when decrement,
 * lowers desired; the instance's TerminateInstances is issued at once and again by the controller
 * until it is terminated.  ret_activity is the activity's id. */
int asg_terminate_member(vm_ctx *ctx, const char *instance_id, bool decrement, char ret_activity[64], vm_error *err);

/* One round of the group controller over every group (the daemon's loop): 1 when an activity is in
 * progress (the next round should come soon), 0, or -1. */
int asg_controller_round(vm_ctx *ctx, vm_error *err);
