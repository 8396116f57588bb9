/* DescribeInstances: the store's view, refreshed from libvirt first, with EC2 filters and pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/filter.h"
#include "../core/tags.h"
#include "instance.h"
#include "../../net/net.h"


/* The filters whose value is the same for every instance of this host (what inst_render says). */
static const char *
same_for_all(const char *name)
{
    static const char *const fixed[][2] = {
        { "ena-support", "true" },
        { "platform-details", "Linux/UNIX" },
        { "usage-operation", "RunInstances" },
        { "hibernation-options.configured", "false" },
        { "enclave-options.enabled", "false" },
        { "maintenance-options.auto-recovery", "default" },
        { "capacity-reservation-specification.capacity-reservation-preference", "open" },
        { "metadata-options.state", "applied" },
        { "metadata-options.http-tokens", "optional" },
        { "metadata-options.http-put-response-hop-limit", "1" },
        { "metadata-options.http-endpoint", "disabled" },
        { "metadata-options.http-protocol-ipv6", "disabled" },
        { "metadata-options.instance-metadata-tags", "disabled" },
        { "private-dns-name-options.hostname-type", "ip-name" },
        { "private-dns-name-options.enable-resource-name-dns-a-record", "false" },
        { "private-dns-name-options.enable-resource-name-dns-aaaa-record", "false" },
        { "placement-group-name", "" },
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(name, fixed[i][0]) == 0)
            return fixed[i][1];
    return NULL;
}

/* 1 when inst passes every filter, 0 when not. */
static int
inst_filter(vm_ctx *ctx, const vm_filters *fs, const inst_obj *in, vm_error *err)
{
    for (size_t i = 0; i < fs->n; i++) {
        const vm_filter *f = &fs->v[i];
        char num[32], zone[40];
        const char *subject = NULL;
        if (strcmp(f->name, "instance-id") == 0)
            subject = in->id;
        else if (strcmp(f->name, "instance-state-name") == 0)
            subject = inst_state_to_string(in->state);
        else if (strcmp(f->name, "instance-state-code") == 0)
            subject = (snprintf(num, sizeof(num), "%d", inst_state_code(in->state)), num);
        else if (strcmp(f->name, "instance-type") == 0)
            subject = in->instance_type;
        else if (strcmp(f->name, "image-id") == 0)
            subject = in->image_id;
        else if (strcmp(f->name, "reservation-id") == 0)
            subject = in->reservation_id;
        else if (strcmp(f->name, "client-token") == 0)
            subject = in->client_token;
        else if (strcmp(f->name, "availability-zone") == 0)
            subject = (net_instance_zone(ctx, in->id, zone), zone);
        else if (strcmp(f->name, "launch-index") == 0)
            subject = (snprintf(num, sizeof(num), "%d", in->launch_index), num);
        else if (strcmp(f->name, "key-name") == 0 && in->key_name[0])
            subject = in->key_name;
        else if (strcmp(f->name, "owner-id") == 0)
            subject = ctx->account_id;
        else if (strcmp(f->name, "architecture") == 0)
            subject = "x86_64";
        else if (strcmp(f->name, "root-device-type") == 0)
            subject = "ebs";
        else if (strcmp(f->name, "root-device-name") == 0)
            subject = "/dev/vda";
        else if (strcmp(f->name, "virtualization-type") == 0)
            subject = "hvm";
        else if (strcmp(f->name, "tenancy") == 0)
            subject = "default";
        else if ((subject = same_for_all(f->name)))
            ;
        else if (strcmp(f->name, "source-dest-check") == 0)
            subject = "true";
        else if (strcmp(f->name, "ebs-optimized") == 0)
            subject = "false";
        else if (strcmp(f->name, "monitoring-state") == 0)
            subject = "disabled";
        else if (strcmp(f->name, "hypervisor") == 0)
            subject = strcmp(ctx->accel, "kvm") == 0 ? "kvm" : "qemu";
        else if (strcmp(f->name, "launch-time") == 0)
            subject = (vm_time_format(in->launched_at, num, sizeof(num)), num);
        else if (strcmp(f->name, "state-reason-code") == 0 && in->reason_code)
            subject = in->reason_code;
        char net[1024];
        int is_net = subject ? 0 : net_instance_filter_value(ctx, in->id, f->name, net, sizeof(net), err);
        if (is_net < 0)
            return -1;
        if (is_net)
            subject = net;
        if (subject) {
            if (!vm_match_lines(subject, f->values))
                return 0;
            continue;
        }
        int m = vm_tags_match(ctx, in->id, f->name, f->values, err); /* tag:KEY, tag-key */
        if (m <= 0)
            return m;
    }
    return 1;
}

int
inst_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp, vm_error *err)
{
    for (size_t i = 0; i < nids; i++) {
        _cleanup_(inst_obj_freep) inst_obj *in = NULL;
        if (inst_get(ctx, ids[i], &in, err) < 0)
            return -1;
    }

    /* the store answers even when libvirt is away; drift is repaired when it is back (here, or by
     * the daemon's loop when one runs) */
    vm_error ignore = { 0 };
    if (!ctx->reconciled_elsewhere)
        inst_reconcile(ctx, &ignore);

    _cleanup_(inst_list_freep) inst_obj **all = NULL;
    if (inst_list(ctx, NULL, &all, err) < 0)
        return -1;

    vm_node *rset = vm_node_list(resp, "reservationSet", "Reservations");
    vm_node *cur_list = NULL;
    const char *cur_rid = "";
    for (inst_obj **i = all; *i; i++) {
        if (nids && !vm_match_any((*i)->id, ids))
            continue;
        int keep = inst_filter(ctx, fs, *i, err);
        if (keep < 0)
            return -1;
        if (!keep)
            continue;
        /* only the page is rendered (MaxResults counts instances, as on EC2) */
        int take = vm_page_take(&ctx->page);
        if (take < 0)
            break;
        if (!take)
            continue;
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
