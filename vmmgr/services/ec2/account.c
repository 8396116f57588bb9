#include "account.h"

#include <stdio.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"

int
vm_account_regions(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    _cleanup_free_ const char **wanted = NULL;
    size_t nwanted;
    if (vm_params_list(p, "RegionName", &wanted, &nwanted, err) < 0 || vm_filters_parse(p, "DescribeRegions", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nwanted; i++)
        if (strcmp(wanted[i], ctx->region) != 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid region: %s", wanted[i]);
    char endpoint[96];
    snprintf(endpoint, sizeof(endpoint), "ec2.%s.vmmgr.internal", ctx->region);
    for (size_t i = 0; i < fs->n; i++) {
        const char *subject = strcmp(fs->v[i].name, "region-name") == 0     ? ctx->region
                              : strcmp(fs->v[i].name, "endpoint") == 0      ? endpoint
                              : strcmp(fs->v[i].name, "opt-in-status") == 0 ? "opt-in-not-required"
                                                                            : NULL;
        if (!subject || !vm_match_any(subject, fs->v[i].values)) {
            vm_node_list(resp, "regionInfo", "Regions");
            return 0;
        }
    }
    vm_node *it = vm_node_item(vm_node_list(resp, "regionInfo", "Regions"));
    vm_node_str(it, "regionName", NULL, ctx->region);
    vm_node_str(it, "regionEndpoint", "Endpoint", endpoint);
    vm_node_str(it, "optInStatus", NULL, "opt-in-not-required");
    return 0;
}

int
vm_account_zones(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    _cleanup_free_ const char **zn = NULL, **zi = NULL;
    size_t nzn, nzi;
    if (vm_params_list(p, "ZoneName", &zn, &nzn, err) < 0 || vm_params_list(p, "ZoneId", &zi, &nzi, err) < 0 ||
        vm_filters_parse(p, "DescribeAvailabilityZones", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nzn; i++)
        if (vm_zone_find(ctx, zn[i]) < 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid availability zone: [%s]", zn[i]);
    for (size_t i = 0; i < nzi; i++)
        if (vm_zone_find_id(ctx, zi[i]) < 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid availability zone ID: [%s]", zi[i]);
    vm_node *list = vm_node_list(resp, "availabilityZoneInfo", "AvailabilityZones");
    for (size_t z = 0; z < ctx->nzones; z++) {
        char zone_id[48];
        vm_zone_id(ctx, z, zone_id);
        bool want = nzn == 0 && nzi == 0;
        for (size_t i = 0; i < nzn; i++)
            want |= strcmp(zn[i], ctx->zones[z]) == 0;
        for (size_t i = 0; i < nzi; i++)
            want |= strcmp(zi[i], zone_id) == 0;
        for (size_t i = 0; want && i < fs->n; i++) {
            const char *n = fs->v[i].name;
            const char *subject = strcmp(n, "zone-name") == 0                                        ? ctx->zones[z]
                                  : strcmp(n, "zone-id") == 0                                        ? zone_id
                                  : strcmp(n, "region-name") == 0                                    ? ctx->region
                                  : strcmp(n, "state") == 0                                          ? "available"
                                  : strcmp(n, "zone-type") == 0                                      ? "availability-zone"
                                  : strcmp(n, "opt-in-status") == 0                                  ? "opt-in-not-required"
                                  : strcmp(n, "group-name") == 0 || strcmp(n, "group-long-name") == 0 ||
                                          strcmp(n, "network-border-group") == 0
                                      ? ctx->region
                                      : NULL;
            want = subject && vm_match_any(subject, fs->v[i].values);
        }
        if (!want)
            continue;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "zoneState", "State", "available");
        vm_node_str(it, "optInStatus", NULL, "opt-in-not-required");
        vm_node_list(it, "messageSet", "Messages");
        vm_node_str(it, "regionName", NULL, ctx->region);
        vm_node_str(it, "zoneName", NULL, ctx->zones[z]);
        vm_node_str(it, "zoneId", NULL, zone_id);
        vm_node_str(it, "groupName", NULL, ctx->region);
        vm_node_str(it, "networkBorderGroup", NULL, ctx->region);
        vm_node_str(it, "zoneType", NULL, "availability-zone");
    }
    return 0;
}

int
vm_account_attributes(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    /* what is true of this cloud today: VPC only, no default VPC yet, no elastic IPs */
    static const struct {
        const char *name, *value;
    } attrs[] = {
        { "supported-platforms", "VPC" },
        { "default-vpc", "none" },
        { "max-instances", "20" },
        { "vpc-max-security-groups-per-interface", "5" },
        { "max-elastic-ips", "0" },
        { "vpc-max-elastic-ips", "0" },
    };
    _cleanup_free_ const char **wanted = NULL;
    size_t nwanted;
    if (vm_params_list(p, "AttributeName", &wanted, &nwanted, err) < 0)
        return -1;
    for (size_t i = 0; i < nwanted; i++) {
        bool known = false;
        for (size_t a = 0; a < sizeof(attrs) / sizeof(attrs[0]); a++)
            known |= strcmp(attrs[a].name, wanted[i]) == 0;
        if (!known)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid account attribute '%s'", wanted[i]);
    }
    vm_node *list = vm_node_list(resp, "accountAttributeSet", "AccountAttributes");
    for (size_t a = 0; a < sizeof(attrs) / sizeof(attrs[0]); a++) {
        if (nwanted && !vm_match_any(attrs[a].name, wanted))
            continue;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "attributeName", NULL, attrs[a].name);
        vm_node *vals = vm_node_list(it, "attributeValueSet", "AttributeValues");
        vm_node_str(vm_node_item(vals), "attributeValue", NULL, attrs[a].value);
    }
    (void)ctx;
    return 0;
}

int
vm_retired_feature(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    (void)ctx;
    (void)p;
    (void)resp;
    return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                        "The functionality you requested is not available in this region");
}
