/* Query-protocol parameters: the flattened `Key.N.Sub=value` list that both the HTTP API
 * (form-decoded body) and the CLI (argv) produce, and that every action handler reads.
 *
 * A vm_params owns copies of its keys and values.  Keys are compared exactly (EC2 wire names are
 * case-sensitive).  Setting a key twice keeps the last value, as most Query servers do. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct vm_param {
    char *key;
    char *value;
} vm_param;

typedef struct vm_params {
    vm_param *v;      /* in the order set */
    size_t n, cap;
    size_t *by_key;   /* indexes into v, sorted by key: lookups are binary searches (a PutMetricData
                       * of 1,000 values has ~6,000 parameters) */
} vm_params;

vm_params *vm_params_new(void);
void vm_params_free(vm_params *p);
#include "cleanup.h"
VM_DEFINE_CLEANUP(vm_params *, vm_params_free)

/* Copies key and value.  Returns 0, or -1 when out of memory. */
int vm_params_set(vm_params *p, const char *key, const char *value);
/* Formats the key with printf. */
int vm_params_setf(vm_params *p, const char *value, const char *keyfmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Borrowed value of key, or NULL when absent. */
const char *vm_params_get(const vm_params *p, const char *key);
const char *vm_params_getf(const vm_params *p, const char *keyfmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The distinct indexes N of keys "PREFIX.N" or "PREFIX.N.…", ascending numerically (so .10
 * follows .2), gaps allowed.  *ret_idx is owned by the caller.  An index that is not a positive
 * decimal number is an InvalidParameterValue error. */
int vm_params_indexes(const vm_params *p, const char *prefix, int **ret_idx, size_t *ret_n, vm_error *err);

/* The values of "PREFIX.N" in index order, NULL-terminated; borrowed strings in an owned array. */
int vm_params_list(const vm_params *p, const char *prefix, const char ***ret_list, size_t *ret_n, vm_error *err);

/* Integer parameter in [min,max]; absent gives def.  Bad text or range: InvalidParameterValue. */
int vm_params_int(const vm_params *p, const char *key, long def, long min, long max, long *ret, vm_error *err);
/* Boolean "true"/"false"; absent gives def. */
int vm_params_bool(const vm_params *p, const char *key, bool def, bool *ret, vm_error *err);
/* Required string: MissingParameter when absent or empty. */
const char *vm_params_require(const vm_params *p, const char *key, vm_error *err);

/* A stable text form of every parameter except those named in skip (NULL-terminated), sorted by
 * key; used to tell whether a retried request asks for the same thing.  Owned by the caller. */
char *vm_params_canonical(const vm_params *p, const char *const *skip);
