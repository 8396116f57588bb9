/* EC2 describe filters: Filter.N.Name with Filter.N.Value.M, values being shell-style patterns
 * (`*`, `?`) as EC2 allows.  A filter matches when any of its values matches; a resource passes
 * when every filter matches.  Names are checked against the action's list before anything is
 * looked at, so an unknown filter is an error even when there is nothing to filter. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "params.h"

typedef struct vm_filter {
    const char *name;    /* borrowed from the params */
    const char **values; /* owned array of borrowed strings, NULL-terminated */
} vm_filter;

typedef struct vm_filters {
    vm_filter *v;
    size_t n;
} vm_filters;

/* The filter names AWS documents for a Describe action (NULL-terminated; the entry "tag:" stands
 * for every tag:KEY), NULL for an action without filters.  Generated from botocore's EC2 model by
 * scripts/gen-model-tables.py into model_tables.c. */
const char *const *vm_filter_names(const char *action);

/* Parses Filter.N of a Describe action: every name AWS documents for the action is accepted (a
 * name vmmgr has no counterpart for matches no resource, as on EC2 for a resource without that
 * attribute), any other is InvalidParameterValue.  *ret is owned (vm_filters_free). */
int vm_filters_parse(const vm_params *p, const char *action, vm_filters **ret, vm_error *err);
void vm_filters_free(vm_filters *f);
VM_DEFINE_CLEANUP(vm_filters *, vm_filters_free)

/* Whether subject matches one of the patterns (a NULL-terminated list). */
bool vm_match_any(const char *subject, const char *const *patterns);
/* The same for a subject of several values, one per line (a resource's groups, …): whether one
 * of them matches one of the patterns. */
bool vm_match_lines(const char *subject, const char *const *patterns);

/* A describe's filters over one resource: subject(obj, name, buf) gives the text a filter name
 * looks at, or NULL for tag filters (tag:KEY, tag-key, …, the resource's tags by id).  1 when obj
 * passes every filter, 0 when not, -1 on error. */
struct vm_ctx;
typedef const char *(*vm_subject_fn)(struct vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len);
int vm_filter_pass(struct vm_ctx *ctx, const vm_filters *fs, const char *id, vm_subject_fn subject, const void *obj,
                   vm_error *err);
