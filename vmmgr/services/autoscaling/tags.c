/* Auto Scaling's group tags on the wire: CreateOrUpdateTags, DeleteTags, DescribeTags (every
 * documented filter, paged). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../autoscaling/asg_priv.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../../core/filter.h"
#include "../service.h"
#include "asg_wire.h"

/* Tags.member.N {Key, Value, PropagateAtLaunch, ResourceId, ResourceType}; group: the group they are
 * for when known (Create), else each ResourceId (CreateOrUpdateTags). */
int
asg_parse_tags(const vm_params *p, const char *group, asg_tag **ret, const char ***ret_groups, size_t *ret_n,
               vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "Tags.member", &idx, &n, err) < 0)
        return -1;
    _cleanup_free_ asg_tag *tags = calloc(n + 1, sizeof(*tags));
    _cleanup_free_ const char **groups = calloc(n + 1, sizeof(char *));
    if (!tags || !groups)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        tags[i].key = vm_params_getf(p, "Tags.member.%d.Key", idx[i]);
        tags[i].value = vm_params_getf(p, "Tags.member.%d.Value", idx[i]);
        const char *prop = vm_params_getf(p, "Tags.member.%d.PropagateAtLaunch", idx[i]);
        const char *rid = vm_params_getf(p, "Tags.member.%d.ResourceId", idx[i]);
        const char *rtype = vm_params_getf(p, "Tags.member.%d.ResourceType", idx[i]);
        if (!tags[i].key || !*tags[i].key || strlen(tags[i].key) > 128)
            return vm_error_set(err, VM_ERR_VALIDATION, "Tag key must be between 1 and 128 characters");
        if (strncmp(tags[i].key, "aws:", 4) == 0)
            return asg_invalid(err, "Tag keys starting with 'aws:' are reserved for internal use: %s", tags[i].key);
        if (tags[i].value && strlen(tags[i].value) > 256)
            return vm_error_set(err, VM_ERR_VALIDATION, "Tag value must be at most 256 characters");
        if (rtype && strcmp(rtype, "auto-scaling-group") != 0)
            return asg_invalid(err, "Invalid resource type: %s", rtype);
        tags[i].propagate = prop && strcmp(prop, "true") == 0;
        groups[i] = group ? group : rid;
        if (!groups[i])
            return vm_error_set(err, VM_ERR_VALIDATION, "ResourceId is required for every tag");
        if (group && rid && strcmp(rid, group) != 0)
            return asg_invalid(err, "Tag ResourceId %s is not the group being created", rid);
    }
    *ret = TAKE_PTR(tags);
    *ret_groups = TAKE_PTR(groups);
    *ret_n = n;
    return 0;
}

/* CreateOrUpdateTags (put) and DeleteTags: every tag's group first, then all in one transaction */
static int
change_tags(vm_ctx *ctx, const vm_params *p, bool put, vm_error *err)
{
    _cleanup_free_ asg_tag *tags = NULL;
    _cleanup_free_ const char **groups = NULL;
    size_t n;
    if (asg_parse_tags(p, NULL, &tags, &groups, &n, err) < 0)
        return -1;
    for (size_t i = 0; put && i < n; i++) {
        asg_group g;
        if (asg_get(ctx, groups[i], &g, err) < 0)
            return -1;
    }
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *key = tags[i].key;
        int rc = put ? asg_tags_put(ctx, groups[i], &tags[i], 1, err) : asg_tags_delete(ctx, groups[i], &key, 1, err);
        if (rc < 0) {
            vm_db_rollback(ctx->db);
            return -1;
        }
    }
    return vm_db_commit(ctx->db, err);
}

int
asg_put_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    return change_tags(ctx, p, true, err);
}

int
asg_delete_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    return change_tags(ctx, p, false, err);
}

/* DescribeTags: Filters auto-scaling-group, key, value, propagate-at-launch */
int
asg_describe_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    long offset, max;
    if (asg_page_args(p, &offset, &max, err) < 0)
        return -1;
    _cleanup_(vm_node_freep) vm_node *all = vm_node_new_root("all");
    vm_node *tl = all ? vm_node_list(all, "Tags", NULL) : NULL;
    if (!tl || asg_tags_render(ctx, tl, NULL, err) < 0)
        return tl ? -1 : vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    _cleanup_free_ int *idx = NULL;
    size_t nf;
    if (vm_params_indexes(p, "Filters.member", &idx, &nf, err) < 0)
        return -1;
    vm_node *list = vm_node_list(result, "Tags", NULL);
    long seen = 0, shown = 0;
    bool more = false;
    for (vm_node *t = tl->first; t; t = t->next) {
        bool keep = true;
        for (size_t i = 0; i < nf && keep; i++) {
            const char *name = vm_params_getf(p, "Filters.member.%d.Name", idx[i]);
            char pre[64];
            snprintf(pre, sizeof(pre), "Filters.member.%d.Values.member", idx[i]);
            _cleanup_free_ const char **vals = NULL;
            size_t nv;
            if (!name || vm_params_list(p, pre, &vals, &nv, err) < 0)
                return name ? -1 : vm_error_set(err, VM_ERR_VALIDATION, "A filter needs a Name");
            const char *field = strcmp(name, "auto-scaling-group") == 0    ? "ResourceId"
                                : strcmp(name, "key") == 0                 ? "Key"
                                : strcmp(name, "value") == 0               ? "Value"
                                : strcmp(name, "propagate-at-launch") == 0 ? "PropagateAtLaunch"
                                                                           : NULL;
            if (!field)
                return asg_invalid(err, "Filter name %s is not valid", name);
            vm_node *f = vm_node_child(t, field);
            char text[16];
            const char *subject = f->type == VM_NODE_BOOL
                                      ? (snprintf(text, sizeof(text), "%s", f->num ? "true" : "false"), text)
                                      : f->str;
            keep = false;
            for (size_t j = 0; j < nv; j++)
                keep |= strcmp(subject, vals[j]) == 0;
        }
        if (!keep || seen++ < offset)
            continue;
        if (shown == max) {
            more = true;
            break;
        }
        shown++;
        vm_node *it = vm_node_item(list);
        for (vm_node *c = t->first; c; c = c->next)
            c->type == VM_NODE_BOOL ? (void)vm_node_bool(it, c->name, NULL, c->num)
                                    : (void)vm_node_str(it, c->name, NULL, c->str);
    }
    asg_next_token(result, more, offset + max);
    return 0;
}
