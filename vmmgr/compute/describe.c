/* DescribeInstances: the store's view, refreshed from libvirt first, with EC2 filters and pages. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/tags.h"
#include "instance.h"

static bool
any_match(const char *value, const char **pats)
{
    for (; *pats; pats++)
        if (fnmatch(*pats, value, 0) == 0)
            return true;
    return false;
}

static const char *const filter_names[] = {
    "instance-id", "instance-state-name", "instance-state-code", "instance-type", "image-id", "reservation-id",
    "client-token", "availability-zone", "launch-index", "tag-key", NULL,
};

/* Unknown filter names are refused even when nothing would be filtered. */
static int
check_filters(const vm_params *p, const int *idx, size_t n, vm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = vm_params_getf(p, "Filter.%d.Name", idx[i]);
        if (!name)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter Filter.%d.Name",
                                idx[i]);
        bool known = strncmp(name, "tag:", 4) == 0 && name[4];
        for (const char *const *f = filter_names; *f && !known; f++)
            known = strcmp(*f, name) == 0;
        if (!known)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The filter '%s' is invalid", name);
    }
    return 0;
}

/* 1 when inst passes every Filter.N, 0 when not. */
static int
inst_filter(vm_ctx *ctx, const vm_params *p, const int *idx, size_t n, const inst_obj *in, vm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = vm_params_getf(p, "Filter.%d.Name", idx[i]);
        char prefix[48], num[32];
        snprintf(prefix, sizeof(prefix), "Filter.%d.Value", idx[i]);
        _cleanup_free_ const char **vals = NULL;
        if (!name)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter Filter.%d.Name",
                                idx[i]);
        if (vm_params_list(p, prefix, &vals, NULL, err) < 0)
            return -1;
        const char *subject = NULL;
        if (strcmp(name, "instance-id") == 0)
            subject = in->id;
        else if (strcmp(name, "instance-state-name") == 0)
            subject = inst_state_to_string(in->state);
        else if (strcmp(name, "instance-state-code") == 0)
            subject = (snprintf(num, sizeof(num), "%d", inst_state_code(in->state)), num);
        else if (strcmp(name, "instance-type") == 0)
            subject = in->instance_type;
        else if (strcmp(name, "image-id") == 0)
            subject = in->image_id;
        else if (strcmp(name, "reservation-id") == 0)
            subject = in->reservation_id;
        else if (strcmp(name, "client-token") == 0)
            subject = in->client_token;
        else if (strcmp(name, "availability-zone") == 0)
            subject = ctx->az;
        else if (strcmp(name, "launch-index") == 0)
            subject = (snprintf(num, sizeof(num), "%d", in->launch_index), num);
        else if (strncmp(name, "tag:", 4) == 0 || strcmp(name, "tag-key") == 0) {
            int m = vm_tags_match(ctx, in->id, name, vals, err);
            if (m <= 0)
                return m;
            continue;
        } else
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The filter '%s' is invalid", name);
        if (!any_match(subject, vals))
            return 0;
    }
    return 1;
}

int
inst_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_free_ int *fidx = NULL;
    size_t nids, nf;
    long max_results, offset;
    if (vm_params_list(p, "InstanceId", &ids, &nids, err) < 0 || vm_params_indexes(p, "Filter", &fidx, &nf, err) < 0 ||
        vm_params_int(p, "MaxResults", 0, 5, 1000, &max_results, err) < 0 ||
        vm_params_int(p, "NextToken", 0, 0, 1L << 30, &offset, err) < 0 || check_filters(p, fidx, nf, err) < 0)
        return -1;
    if (nids && vm_params_get(p, "MaxResults"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "The parameter instancesSet cannot be used with the parameter maxResults");
    for (size_t i = 0; i < nids; i++) {
        _cleanup_(inst_obj_freep) inst_obj *in = NULL;
        if (inst_get(ctx, ids[i], &in, err) < 0)
            return -1;
    }

    /* the store answers even when libvirt is away; drift is repaired when it is back */
    vm_error ignore = { 0 };
    inst_reconcile(ctx, &ignore);

    _cleanup_(inst_list_freep) inst_obj **all = NULL;
    if (inst_list(ctx, NULL, &all, err) < 0)
        return -1;

    vm_node *rset = vm_node_list(resp, "reservationSet", "Reservations");
    vm_node *cur_list = NULL;
    const char *cur_rid = "";
    long seen = 0, shown = 0;
    for (inst_obj **i = all; *i; i++) {
        if (nids && !any_match((*i)->id, ids))
            continue;
        int keep = inst_filter(ctx, p, fidx, nf, *i, err);
        if (keep < 0)
            return -1;
        if (!keep)
            continue;
        if (seen++ < offset)
            continue;
        if (max_results && shown == max_results) {
            char tok[32];
            snprintf(tok, sizeof(tok), "%ld", offset + shown);
            vm_node_str(resp, "nextToken", NULL, tok);
            break;
        }
        shown++;
        if (strcmp(cur_rid, (*i)->reservation_id) != 0) {
            vm_node *r = vm_node_item(rset);
            vm_node_str(r, "reservationId", NULL, (*i)->reservation_id);
            vm_node_str(r, "ownerId", NULL, ctx->account_id);
            vm_node_list(r, "groupSet", "Groups");
            cur_list = vm_node_list(r, "instancesSet", "Instances");
            cur_rid = (*i)->reservation_id;
        }
        if (inst_render(ctx, vm_node_item(cur_list), *i, err) < 0)
            return -1;
    }
    return 0;
}
