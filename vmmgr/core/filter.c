#include "filter.h"
#include "tags.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
vm_match_any(const char *subject, const char *const *patterns)
{
    for (; patterns && *patterns; patterns++)
        if (fnmatch(*patterns, subject, 0) == 0)
            return true;
    return false;
}

bool
vm_match_lines(const char *subject, const char *const *patterns)
{
    if (!strchr(subject, '\n'))
        return vm_match_any(subject, patterns);
    for (const char *line = subject;;) {
        const char *end = strchrnul(line, '\n');
        char one[512];
        snprintf(one, sizeof(one), "%.*s", (int)(end - line), line);
        if (vm_match_any(one, patterns))
            return true;
        if (!*end)
            return false;
        line = end + 1;
    }
}

void
vm_filters_free(vm_filters *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].values);
    free(f->v);
    free(f);
}

int
vm_filters_parse(const vm_params *p, const char *action, vm_filters **ret, vm_error *err)
{
    const char *const *known = vm_filter_names(action);
    if (!known)
        return vm_error_set(err, VM_ERR_INTERNAL, "no filter names for %s", action);
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "Filter", &idx, &n, err) < 0)
        return -1;
    _cleanup_(vm_filters_freep) vm_filters *f = calloc(1, sizeof(*f));
    if (!f || !(f->v = calloc(n + 1, sizeof(vm_filter))))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *name = vm_params_getf(p, "Filter.%d.Name", idx[i]);
        if (!name || !*name)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter Filter.%d.Name",
                                idx[i]);
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, name) == 0 || (strcmp(*k, "tag:") == 0 && strncmp(name, "tag:", 4) == 0 && name[4]);
        if (!ok)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The filter '%s' is invalid", name);
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "Filter.%d.Value", idx[i]);
        f->v[f->n].name = name;
        if (vm_params_list(p, prefix, &f->v[f->n].values, NULL, err) < 0)
            return -1;
        f->n++;
    }
    *ret = TAKE_PTR(f);
    return 0;
}

int
vm_filter_pass(vm_ctx *ctx, const vm_filters *fs, const char *id, vm_subject_fn subject, const void *obj,
               vm_error *err)
{
    for (size_t i = 0; i < fs->n; i++) {
        char buf[1024];
        const char *s = subject(ctx, obj, fs->v[i].name, buf, sizeof(buf));
        int m = s ? vm_match_lines(s, fs->v[i].values) : vm_tags_match(ctx, id, fs->v[i].name, fs->v[i].values, err);
        if (m <= 0)
            return m;
    }
    return 1;
}
