#include "params.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

vm_params *
vm_params_new(void)
{
    return calloc(1, sizeof(vm_params));
}

void
vm_params_free(vm_params *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].key);
        free(p->v[i].value);
    }
    free(p->v);
    free(p->by_key);
    free(p);
}

/* where key is in p->by_key, or where it would go; *found: it is there */
static size_t
find(const vm_params *p, const char *key, bool *found)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(p->v[p->by_key[mid]].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

int
vm_params_set(vm_params *p, const char *key, const char *value)
{
    bool found;
    size_t at = find(p, key, &found);
    if (found) {
        char *nv = strdup(value);
        if (!nv)
            return -1;
        free(p->v[p->by_key[at]].value);
        p->v[p->by_key[at]].value = nv;
        return 0;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        vm_param *nv = realloc(p->v, cap * sizeof(*nv));
        if (!nv)
            return -1;
        p->v = nv;
        size_t *nb = realloc(p->by_key, cap * sizeof(*nb));
        if (!nb)
            return -1;
        p->by_key = nb;
        p->cap = cap;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    p->v[p->n].key = k;
    p->v[p->n].value = v;
    memmove(&p->by_key[at + 1], &p->by_key[at], (p->n - at) * sizeof(*p->by_key));
    p->by_key[at] = p->n;
    p->n++;
    return 0;
}

int
vm_params_setf(vm_params *p, const char *value, const char *keyfmt, ...)
{
    char key[256];
    va_list ap;
    va_start(ap, keyfmt);
    int n = vsnprintf(key, sizeof(key), keyfmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(key))
        return -1;
    return vm_params_set(p, key, value);
}

const char *
vm_params_get(const vm_params *p, const char *key)
{
    bool found;
    size_t at = find(p, key, &found);
    return found ? p->v[p->by_key[at]].value : NULL;
}

const char *
vm_params_getf(const vm_params *p, const char *keyfmt, ...)
{
    char key[256];
    va_list ap;
    va_start(ap, keyfmt);
    int n = vsnprintf(key, sizeof(key), keyfmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(key))
        return NULL;
    return vm_params_get(p, key);
}

static int
cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int
vm_params_indexes(const vm_params *p, const char *prefix, int **ret_idx, size_t *ret_n, vm_error *err)
{
    size_t plen = strlen(prefix), n = 0;
    _cleanup_free_ int *idx = calloc(p->n + 1, sizeof(int));
    if (!idx)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    /* the keys "prefix.…" are one run of the sorted keys: from where "prefix." would go */
    char dotted[256];
    if (plen + 2 > sizeof(dotted))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "parameter name too long: %s", prefix);
    memcpy(dotted, prefix, plen);
    memcpy(dotted + plen, ".", 2);
    bool found;
    for (size_t at = find(p, dotted, &found); at < p->n; at++) {
        const char *k = p->v[p->by_key[at]].key;
        if (strncmp(k, dotted, plen + 1) != 0)
            break;
        const char *num = k + plen + 1;
        size_t digits = strspn(num, "0123456789");
        if (digits == 0 || digits > 6 || (num[digits] != '\0' && num[digits] != '.') || num[0] == '0')
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "parameter '%s' has an invalid index", k);
        /* the keys of one index are next to each other ("P.1", "P.1.A", "P.1.B", then "P.10…") */
        int v = atoi(num);
        if (n == 0 || idx[n - 1] != v)
            idx[n++] = v;
    }
    qsort(idx, n, sizeof(int), cmp_int);
    *ret_idx = TAKE_PTR(idx);
    *ret_n = n;
    return 0;
}

int
vm_params_list(const vm_params *p, const char *prefix, const char ***ret_list, size_t *ret_n, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, prefix, &idx, &n, err) < 0)
        return -1;
    _cleanup_free_ const char **list = calloc(n + 1, sizeof(char *));
    if (!list)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = vm_params_getf(p, "%s.%d", prefix, idx[i]);
        if (!v)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "parameter '%s.%d' has sub-keys but no value", prefix, idx[i]);
        list[m++] = v;
    }
    *ret_list = TAKE_PTR(list);
    if (ret_n)
        *ret_n = m;
    return 0;
}

int
vm_params_int(const vm_params *p, const char *key, long def, long min, long max, long *ret, vm_error *err)
{
    const char *v = vm_params_get(p, key);
    if (!v) {
        *ret = def;
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < min || x > max)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "value '%s' for parameter '%s' is not an integer from %ld to %ld", v, key, min, max);
    *ret = x;
    return 0;
}

int
vm_params_bool(const vm_params *p, const char *key, bool def, bool *ret, vm_error *err)
{
    const char *v = vm_params_get(p, key);
    if (!v)
        *ret = def;
    else if (strcmp(v, "true") == 0)
        *ret = true;
    else if (strcmp(v, "false") == 0)
        *ret = false;
    else
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "value '%s' for parameter '%s' is not a boolean (true or false)", v, key);
    return 0;
}

const char *
vm_params_require(const vm_params *p, const char *key, vm_error *err)
{
    const char *v = vm_params_get(p, key);
    if (!v || !*v) {
        vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter %s", key);
        return NULL;
    }
    return v;
}

static int
cmp_param(const void *a, const void *b)
{
    return strcmp(((const vm_param *)a)->key, ((const vm_param *)b)->key);
}

char *
vm_params_canonical(const vm_params *p, const char *const *skip)
{
    _cleanup_free_ vm_param *sorted = calloc(p->n + 1, sizeof(vm_param));
    if (!sorted)
        return NULL;
    size_t n = 0, len = 1;
    for (size_t i = 0; i < p->n; i++) {
        bool skipped = false;
        for (const char *const *s = skip; s && *s; s++)
            skipped |= strcmp(*s, p->v[i].key) == 0;
        if (skipped)
            continue;
        sorted[n++] = p->v[i];
        len += strlen(p->v[i].key) + strlen(p->v[i].value) + 2;
    }
    qsort(sorted, n, sizeof(vm_param), cmp_param);
    char *out = malloc(len), *w = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        /* '\x1f' and '\x1e' cannot be confused with text a client would send */
        w += sprintf(w, "%s\x1f%s\x1e", sorted[i].key, sorted[i].value);
    }
    *w = '\0';
    return out;
}
