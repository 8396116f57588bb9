/* EC2 launch templates: named, numbered versions of a launch's parameters.  A version's data is
 * kept as the RunInstances parameters it stands for (LaunchTemplateData's wire names are
 * RunInstances' own: ImageId, SecurityGroupId.N, BlockDeviceMapping.N.Ebs.VolumeSize, …), so a
 * launch from a template is the template's parameters under the request's own, parsed once by
 * RunInstances' edge (run_instances.c) into the typed launch of compute (compute/instance.h).
 * Stored wire parameters belong to the wire's edge, so this store is EC2's, not compute's: compute
 * never sees them.  Auto Scaling launches through the same edge (ec2_run_req_parse).  Versions are
 * immutable; the default one can move; the default cannot be deleted except with the template. */
#pragma once

#include <time.h>

#include "../../core/ctx.h"
#include "../../core/ids.h"
#include "../../core/params.h"
#include "../../core/tags.h"

#define LT_NAME_MAX 128

typedef struct lt_obj {
    char id[VM_ID_MAX];
    char name[LT_NAME_MAX + 1];
    long default_version, latest_version;
    time_t created_at;
} lt_obj;

/* The template by id or by name (exactly one given): InvalidLaunchTemplateId.Malformed/.NotFound,
 * InvalidLaunchTemplateName.NotFoundException; neither or both is MissingParameter/
 * InvalidParameterCombination. */
int lt_find(vm_ctx *ctx, const char *id, const char *name, lt_obj *ret, vm_error *err);
/* A version as a request names it: a number, "$Latest" or "$Default" (NULL: $Default).  A number
 * that is not one of the template's versions is InvalidLaunchTemplateId.VersionNotFound. */
int lt_version_resolve(vm_ctx *ctx, const lt_obj *lt, const char *spec, long *ret, vm_error *err);
/* The parameters of version v (RunInstances' names), owned by the caller. */
int lt_data_load(vm_ctx *ctx, const char *id, long v, vm_params **ret, vm_error *err);

/* Creates a template with version 1 (data: RunInstances' names).  InvalidLaunchTemplateName.
 * AlreadyExistsException when the name is taken. */
int lt_create(vm_ctx *ctx, const char *name, const char *description, const vm_params *data, const vm_tag *tags,
              size_t ntags, lt_obj *ret, vm_error *err);
/* Adds version latest+1: source's data (0: none) with data's top-level parameters replacing its. */
int lt_create_version(vm_ctx *ctx, const lt_obj *lt, long source, const char *description, const vm_params *data,
                      long *ret_version, vm_error *err);
int lt_set_default(vm_ctx *ctx, const lt_obj *lt, long version, vm_error *err);
/* The template, its versions and tags. */
int lt_delete(vm_ctx *ctx, const lt_obj *lt, vm_error *err);
/* One version: 0, or -1 with err (not found; the default version is refused). */
int lt_delete_version(vm_ctx *ctx, const lt_obj *lt, long version, vm_error *err);

/* Merges into out: every parameter of over, then those of base whose top-level name (before the
 * first '.') over does not have.  The rule of "explicit parameters override the template's". */
int lt_params_overlay(const vm_params *base, const vm_params *over, vm_params *out, vm_error *err);
