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

/* Parses Filter.N.  known lists the accepted names; "tag:KEY" is accepted too when tags is true
 * (and "tag-key" when listed).  *ret is owned (vm_filters_free). */
int vm_filters_parse(const vm_params *p, const char *const *known, bool tags, vm_filters **ret, vm_error *err);
void vm_filters_free(vm_filters *f);
VM_DEFINE_CLEANUP(vm_filters *, vm_filters_free)

/* Whether subject matches one of the patterns (a NULL-terminated list). */
bool vm_match_any(const char *subject, const char *const *patterns);
