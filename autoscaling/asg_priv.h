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

/* asg_set_desired inside the caller's transaction. */
int asg_set_desired_locked(vm_ctx *ctx, const char *name, long desired, const char *cause, vm_error *err);
/* Records a termination of member m of group (an activity; the member Terminating; desired set to
 * new_desired unless it is negative) and issues it. */
int asg_start_terminate(vm_ctx *ctx, const char *group, const asg_member *m, const char *cause, char ret_id[64],
                        long new_desired, vm_error *err);
