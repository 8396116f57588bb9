/* EC2 launch templates on the wire: CreateLaunchTemplate[Version], DescribeLaunchTemplate[Version]s,
 * ModifyLaunchTemplate, DeleteLaunchTemplate[Versions].  LaunchTemplateData.X travels as X, the
 * RunInstances name it stands for (template_store.h); it is checked as RunInstances would
 * parse it, and rendered back in ResponseLaunchTemplateData's shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template_store.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../../core/filter.h"
#include "../../core/page.h"
#include "ec2.h"

#define LT_DATA "LaunchTemplateData."

static int
check_name(const char *name, vm_error *err)
{
    size_t n = strlen(name);
    if (n < 3 || n > LT_NAME_MAX || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789()./_-") != n)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "1 validation error detected: Value '%s' at 'launchTemplateName' failed to satisfy "
                            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9\\(\\)\\.\\-/_]+ "
                            "and length 3 to 128",
                            name);
    return 0;
}

/* LaunchTemplateData.X of the request as X, checked as RunInstances would parse it. */
static int
template_data(vm_ctx *ctx, const vm_params *p, bool required, vm_params **ret, vm_error *err)
{
    _cleanup_(vm_params_freep) vm_params *d = vm_params_new();
    if (!d)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    size_t len = strlen(LT_DATA);
    for (size_t i = 0; i < p->n; i++)
        if (strncmp(p->v[i].key, LT_DATA, len) == 0 && vm_params_set(d, p->v[i].key + len, p->v[i].value) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (required && d->n == 0 && !vm_params_get(p, "LaunchTemplateData"))
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter LaunchTemplateData");
    static const char *const not_here[] = { "MinCount", "MaxCount", "ClientToken", "LaunchTemplate", "DryRun", NULL };
    for (const char *const *k = not_here; *k; k++)
        for (size_t i = 0; i < d->n; i++)
            if (strncmp(d->v[i].key, *k, strlen(*k)) == 0)
                return vm_error_set(err, VM_ERR_UNKNOWN_PARAMETER, "The parameter LaunchTemplateData.%s is not "
                                    "recognized", d->v[i].key);
    _cleanup_(ec2_run_holder_free) ec2_run_holder h = { 0 };
    inst_run_req req;
    if (ec2_run_req_parse(ctx, d, true, &h, &req, err) < 0)
        return -1;
    *ret = TAKE_PTR(d);
    return 0;
}

static void
render_lt(vm_ctx *ctx, vm_node *it, const lt_obj *lt, vm_error *err)
{
    vm_node_str(it, "launchTemplateId", NULL, lt->id);
    vm_node_str(it, "launchTemplateName", NULL, lt->name);
    vm_node_time(it, "createTime", NULL, lt->created_at);
    char by[96];
    snprintf(by, sizeof(by), "arn:aws:iam::%s:root", ctx->account_id);
    vm_node_str(it, "createdBy", NULL, by);
    vm_node_int(it, "defaultVersionNumber", NULL, lt->default_version);
    vm_node_int(it, "latestVersionNumber", NULL, lt->latest_version);
    vm_tags_render(ctx, it, lt->id, err);
}

static bool
is_true(const char *v)
{
    return v && strcmp(v, "true") == 0;
}

static void
data_bool(vm_node *parent, const char *name, const char *v)
{
    if (v)
        vm_node_bool(parent, name, NULL, is_true(v));
}

static void
data_int(vm_node *parent, const char *name, const char *v)
{
    if (v)
        vm_node_int(parent, name, NULL, atoll(v));
}

static void
data_list(vm_node *parent, const char *name, const vm_params *d, const char *prefix)
{
    _cleanup_free_ const char **vals = NULL;
    size_t n;
    vm_error ignore = { 0 };
    if (vm_params_list(d, prefix, &vals, &n, &ignore) < 0 || n == 0)
        return;
    vm_node *l = vm_node_list(parent, name, NULL);
    for (size_t i = 0; i < n; i++)
        vm_node_str(l, NULL, NULL, vals[i]);
}

/* ResponseLaunchTemplateData from the stored parameters: what vmmgr uses, in AWS's shape. */
static void
render_data(vm_node *parent, const vm_params *d)
{
    vm_node *o = vm_node_struct(parent, "launchTemplateData", NULL);
    vm_error ignore = { 0 };
    static const char *const strs[][2] = { { "ImageId", "imageId" },
                                           { "InstanceType", "instanceType" },
                                           { "KeyName", "keyName" },
                                           { "UserData", "userData" },
                                           { "InstanceInitiatedShutdownBehavior", "instanceInitiatedShutdownBehavior" },
                                           { "KernelId", "kernelId" },
                                           { "RamDiskId", "ramDiskId" } };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (vm_params_get(d, strs[i][0]))
            vm_node_str(o, strs[i][1], NULL, vm_params_get(d, strs[i][0]));
    data_bool(o, "disableApiTermination", vm_params_get(d, "DisableApiTermination"));
    data_bool(o, "disableApiStop", vm_params_get(d, "DisableApiStop"));
    data_bool(o, "ebsOptimized", vm_params_get(d, "EbsOptimized"));
    data_list(o, "securityGroupIdSet", d, "SecurityGroupId");
    data_list(o, "securityGroupSet", d, "SecurityGroup");
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(d, "BlockDeviceMapping", &idx, &n, &ignore) == 0 && n) {
        vm_node *l = vm_node_list(o, "blockDeviceMappingSet", "BlockDeviceMappings");
        for (size_t i = 0; i < n; i++) {
            vm_node *it = vm_node_item(l);
            const char *dev = vm_params_getf(d, "BlockDeviceMapping.%d.DeviceName", idx[i]);
            if (dev)
                vm_node_str(it, "deviceName", NULL, dev);
            const char *size = vm_params_getf(d, "BlockDeviceMapping.%d.Ebs.VolumeSize", idx[i]);
            const char *del = vm_params_getf(d, "BlockDeviceMapping.%d.Ebs.DeleteOnTermination", idx[i]);
            const char *type = vm_params_getf(d, "BlockDeviceMapping.%d.Ebs.VolumeType", idx[i]);
            if (size || del || type) {
                vm_node *e = vm_node_struct(it, "ebs", NULL);
                data_bool(e, "deleteOnTermination", del);
                data_int(e, "volumeSize", size);
                if (type)
                    vm_node_str(e, "volumeType", NULL, type);
            }
        }
    }
    free(TAKE_PTR(idx));
    if (vm_params_indexes(d, "NetworkInterface", &idx, &n, &ignore) == 0 && n) {
        vm_node *l = vm_node_list(o, "networkInterfaceSet", "NetworkInterfaces");
        for (size_t i = 0; i < n; i++) {
            vm_node *it = vm_node_item(l);
            char pre[64];
            snprintf(pre, sizeof(pre), "NetworkInterface.%d.", idx[i]);
            data_bool(it, "associatePublicIpAddress", vm_params_getf(d, "%sAssociatePublicIpAddress", pre));
            data_bool(it, "deleteOnTermination", vm_params_getf(d, "%sDeleteOnTermination", pre));
            data_int(it, "deviceIndex", vm_params_getf(d, "%sDeviceIndex", pre));
            snprintf(pre, sizeof(pre), "NetworkInterface.%d.SecurityGroupId", idx[i]);
            data_list(it, "groupSet", d, pre);
            const char *v = vm_params_getf(d, "NetworkInterface.%d.PrivateIpAddress", idx[i]);
            if (v)
                vm_node_str(it, "privateIpAddress", NULL, v);
            if ((v = vm_params_getf(d, "NetworkInterface.%d.SubnetId", idx[i])))
                vm_node_str(it, "subnetId", NULL, v);
        }
    }
    free(TAKE_PTR(idx));
    if (vm_params_indexes(d, "TagSpecification", &idx, &n, &ignore) == 0 && n) {
        vm_node *l = vm_node_list(o, "tagSpecificationSet", "TagSpecifications");
        for (size_t i = 0; i < n; i++) {
            vm_node *it = vm_node_item(l);
            const char *rt = vm_params_getf(d, "TagSpecification.%d.ResourceType", idx[i]);
            if (rt)
                vm_node_str(it, "resourceType", NULL, rt);
            char pre[64];
            snprintf(pre, sizeof(pre), "TagSpecification.%d.Tag", idx[i]);
            _cleanup_free_ vm_tag *tags = NULL;
            size_t nt;
            vm_node *tl = vm_node_list(it, "tagSet", "Tags");
            if (vm_tags_parse(d, pre, &tags, &nt, &ignore) == 0)
                for (size_t t = 0; t < nt; t++) {
                    vm_node *ti = vm_node_item(tl);
                    vm_node_str(ti, "key", NULL, tags[t].key);
                    vm_node_str(ti, "value", NULL, tags[t].value);
                }
        }
    }
    const char *v;
    if (vm_params_get(d, "MetadataOptions.HttpTokens") || vm_params_get(d, "MetadataOptions.HttpEndpoint") ||
        vm_params_get(d, "MetadataOptions.HttpPutResponseHopLimit") ||
        vm_params_get(d, "MetadataOptions.InstanceMetadataTags")) {
        vm_node *m = vm_node_struct(o, "metadataOptions", NULL);
        if ((v = vm_params_get(d, "MetadataOptions.HttpTokens")))
            vm_node_str(m, "httpTokens", NULL, v);
        data_int(m, "httpPutResponseHopLimit", vm_params_get(d, "MetadataOptions.HttpPutResponseHopLimit"));
        if ((v = vm_params_get(d, "MetadataOptions.HttpEndpoint")))
            vm_node_str(m, "httpEndpoint", NULL, v);
        if ((v = vm_params_get(d, "MetadataOptions.InstanceMetadataTags")))
            vm_node_str(m, "instanceMetadataTags", NULL, v);
    }
    if ((v = vm_params_get(d, "Placement.AvailabilityZone")))
        vm_node_str(vm_node_struct(o, "placement", NULL), "availabilityZone", NULL, v);
    if ((v = vm_params_get(d, "Monitoring.Enabled")))
        data_bool(vm_node_struct(o, "monitoring", NULL), "enabled", v);
}

static int
render_version(vm_ctx *ctx, vm_node *it, const lt_obj *lt, long v, const char *description, time_t created,
               vm_error *err)
{
    _cleanup_(vm_params_freep) vm_params *d = NULL;
    if (lt_data_load(ctx, lt->id, v, &d, err) < 0)
        return -1;
    vm_node_str(it, "launchTemplateId", NULL, lt->id);
    vm_node_str(it, "launchTemplateName", NULL, lt->name);
    vm_node_int(it, "versionNumber", NULL, v);
    if (description)
        vm_node_str(it, "versionDescription", NULL, description);
    vm_node_time(it, "createTime", NULL, created);
    char by[96];
    snprintf(by, sizeof(by), "arn:aws:iam::%s:root", ctx->account_id);
    vm_node_str(it, "createdBy", NULL, by);
    vm_node_bool(it, "defaultVersion", NULL, v == lt->default_version);
    render_data(it, d);
    return 0;
}

int
ec2_create_launch_template(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *name = vm_params_require(p, "LaunchTemplateName", err);
    const char *desc = vm_params_get(p, "VersionDescription");
    _cleanup_(vm_params_freep) vm_params *d = NULL;
    _cleanup_free_ vm_tag *tags = NULL;
    size_t ntags;
    bool dry;
    if (!name || check_name(name, err) < 0 || template_data(ctx, p, true, &d, err) < 0 ||
        vm_tags_from_spec(p, "launch-template", &tags, &ntags, err) < 0 ||
        vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (desc && strlen(desc) > 255)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "VersionDescription is longer than 255 characters");
    if (dry)
        return vm_error_dry_run(err);
    lt_obj lt;
    if (lt_create(ctx, name, desc, d, tags, ntags, &lt, err) < 0)
        return -1;
    render_lt(ctx, vm_node_struct(resp, "launchTemplate", NULL), &lt, err);
    return err->code ? -1 : 0;
}

int
ec2_create_launch_template_version(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    lt_obj lt;
    long source = 0, v;
    const char *desc = vm_params_get(p, "VersionDescription");
    _cleanup_(vm_params_freep) vm_params *d = NULL;
    bool dry;
    if (lt_find(ctx, vm_params_get(p, "LaunchTemplateId"), vm_params_get(p, "LaunchTemplateName"), &lt, err) < 0 ||
        template_data(ctx, p, true, &d, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (vm_params_get(p, "SourceVersion") &&
        lt_version_resolve(ctx, &lt, vm_params_get(p, "SourceVersion"), &source, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);
    if (lt_create_version(ctx, &lt, source, desc, d, &v, err) < 0 || lt_find(ctx, lt.id, NULL, &lt, err) < 0)
        return -1;
    return render_version(ctx, vm_node_struct(resp, "launchTemplateVersion", NULL), &lt, v, desc, time(NULL), err);
}

int
ec2_describe_launch_templates(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL, **names = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t ni, nn;
    if (vm_params_list(p, "LaunchTemplateId", &ids, &ni, err) < 0 ||
        vm_params_list(p, "LaunchTemplateName", &names, &nn, err) < 0 ||
        vm_filters_parse(p, "DescribeLaunchTemplates", &fs, err) < 0)
        return -1;
    /* every id or name asked for must exist */
    for (size_t i = 0; i < ni + nn; i++) {
        lt_obj lt;
        if (lt_find(ctx, i < ni ? ids[i] : NULL, i < ni ? NULL : names[i - ni], &lt, err) < 0)
            return -1;
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT id, name, default_version, latest_version, created_at FROM launch_templates ORDER BY "
                      "created_at, id",
                      &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "launchTemplates", NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        lt_obj lt = { 0 };
        snprintf(lt.id, sizeof(lt.id), "%s", vm_db_text(st, 0));
        snprintf(lt.name, sizeof(lt.name), "%s", vm_db_text(st, 1));
        lt.default_version = sqlite3_column_int64(st, 2);
        lt.latest_version = sqlite3_column_int64(st, 3);
        lt.created_at = sqlite3_column_int64(st, 4);
        if ((ni || nn) && !vm_match_any(lt.id, ids) && !vm_match_any(lt.name, names))
            continue;
        bool keep = true;
        for (size_t f = 0; keep && f < fs->n; f++) {
            const char *fn = fs->v[f].name;
            char ct[32];
            vm_time_format(lt.created_at, ct, sizeof(ct));
            const char *subject = strcmp(fn, "launch-template-name") == 0 ? lt.name
                                  : strcmp(fn, "create-time") == 0        ? ct
                                                                          : NULL;
            int m = subject ? vm_match_any(subject, fs->v[f].values) : vm_tags_match(ctx, lt.id, fn, fs->v[f].values, err);
            if (m < 0)
                return -1;
            keep = m;
        }
        if (!keep)
            continue;
        int take = vm_page_take(&ctx->page);
        if (take < 0)
            break;
        if (take == 0)
            continue;
        render_lt(ctx, vm_node_item(list), &lt, err);
        if (err->code)
            return -1;
    }
    return 0;
}

int
ec2_describe_launch_template_versions(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_get(p, "LaunchTemplateId"), *name = vm_params_get(p, "LaunchTemplateName");
    _cleanup_free_ const char **specs = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t ns;
    long minv, maxv;
    if (vm_params_list(p, "LaunchTemplateVersion", &specs, &ns, err) < 0 ||
        vm_filters_parse(p, "DescribeLaunchTemplateVersions", &fs, err) < 0 ||
        vm_params_int(p, "MinVersion", 0, 0, 1L << 40, &minv, err) < 0 ||
        vm_params_int(p, "MaxVersion", 0, 0, 1L << 40, &maxv, err) < 0)
        return -1;
    lt_obj one;
    bool single = id || name;
    if (single && lt_find(ctx, id, name, &one, err) < 0)
        return -1;
    if (!single && ns)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                            "The request must contain the parameter LaunchTemplateName or LaunchTemplateId");
    /* the versions asked for: numbers, $Latest, $Default (each must exist) */
    _cleanup_free_ long *want = calloc(ns + 1, sizeof(long));
    if (!want)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < ns; i++)
        if (lt_version_resolve(ctx, &one, specs[i], &want[i], err) < 0)
            return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT t.id, t.name, t.default_version, t.latest_version, t.created_at, v.version, "
                      "v.description, v.created_at FROM launch_template_versions v JOIN launch_templates t "
                      "ON t.id = v.template_id WHERE (?1 IS NULL OR t.id = ?1) ORDER BY t.created_at, t.id, v.version",
                      &st, err) < 0 ||
        vm_db_bind(st, err, "t", single ? one.id : NULL) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "launchTemplateVersionSet", NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        lt_obj lt = { 0 };
        snprintf(lt.id, sizeof(lt.id), "%s", vm_db_text(st, 0));
        snprintf(lt.name, sizeof(lt.name), "%s", vm_db_text(st, 1));
        lt.default_version = sqlite3_column_int64(st, 2);
        lt.latest_version = sqlite3_column_int64(st, 3);
        lt.created_at = sqlite3_column_int64(st, 4);
        long v = sqlite3_column_int64(st, 5);
        bool asked = ns == 0;
        for (size_t i = 0; i < ns; i++)
            asked |= want[i] == v;
        if (!asked || (minv && v < minv) || (maxv && v > maxv))
            continue;
        if (fs->n) {
            _cleanup_(vm_params_freep) vm_params *d = NULL;
            if (lt_data_load(ctx, lt.id, v, &d, err) < 0)
                return -1;
            bool keep = true;
            for (size_t f = 0; keep && f < fs->n; f++) {
                const char *fn = fs->v[f].name;
                const char *subject = strcmp(fn, "image-id") == 0             ? vm_params_get(d, "ImageId")
                                      : strcmp(fn, "instance-type") == 0      ? vm_params_get(d, "InstanceType")
                                      : strcmp(fn, "is-default-version") == 0 ? (v == lt.default_version ? "true" : "false")
                                      : strcmp(fn, "kernel-id") == 0          ? vm_params_get(d, "KernelId")
                                      : strcmp(fn, "ram-disk-id") == 0        ? vm_params_get(d, "RamDiskId")
                                                                              : NULL;
                keep = subject && vm_match_any(subject, fs->v[f].values);
            }
            if (!keep)
                continue;
        }
        int take = vm_page_take(&ctx->page);
        if (take < 0)
            break;
        if (take == 0)
            continue;
        const char *desc = sqlite3_column_type(st, 6) == SQLITE_NULL ? NULL : vm_db_text(st, 6);
        if (render_version(ctx, vm_node_item(list), &lt, v, desc, sqlite3_column_int64(st, 7), err) < 0)
            return -1;
    }
    return 0;
}

int
ec2_modify_launch_template(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    lt_obj lt;
    long v;
    bool dry;
    if (lt_find(ctx, vm_params_get(p, "LaunchTemplateId"), vm_params_get(p, "LaunchTemplateName"), &lt, err) < 0 ||
        vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    const char *set = vm_params_get(p, "SetDefaultVersion");
    if (set && lt_version_resolve(ctx, &lt, set, &v, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);
    if (set && (lt_set_default(ctx, &lt, v, err) < 0 || lt_find(ctx, lt.id, NULL, &lt, err) < 0))
        return -1;
    render_lt(ctx, vm_node_struct(resp, "launchTemplate", NULL), &lt, err);
    return err->code ? -1 : 0;
}

int
ec2_delete_launch_template(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    lt_obj lt;
    bool dry;
    if (lt_find(ctx, vm_params_get(p, "LaunchTemplateId"), vm_params_get(p, "LaunchTemplateName"), &lt, err) < 0 ||
        vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);
    vm_node *it = vm_node_struct(resp, "launchTemplate", NULL);
    render_lt(ctx, it, &lt, err);
    if (err->code || lt_delete(ctx, &lt, err) < 0)
        return -1;
    return 0;
}

int
ec2_delete_launch_template_versions(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    lt_obj lt;
    bool dry;
    _cleanup_free_ const char **specs = NULL;
    size_t ns;
    if (lt_find(ctx, vm_params_get(p, "LaunchTemplateId"), vm_params_get(p, "LaunchTemplateName"), &lt, err) < 0 ||
        vm_params_list(p, "LaunchTemplateVersion", &specs, &ns, err) < 0 ||
        vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (ns == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter LaunchTemplateVersion");
    if (dry)
        return vm_error_dry_run(err);
    vm_node *ok = vm_node_list(resp, "successfullyDeletedLaunchTemplateVersionSet", NULL);
    vm_node *bad = vm_node_list(resp, "unsuccessfullyDeletedLaunchTemplateVersionSet", NULL);
    for (size_t i = 0; i < ns; i++) {
        vm_error e = { 0 };
        char *end;
        long v = strtol(specs[i], &end, 10);
        if (*end || end == specs[i] || v < 1)
            vm_error_set(&e, VM_ERR_INVALID_PARAMETER_VALUE, "The version number %s is not valid", specs[i]);
        else if (lt_delete_version(ctx, &lt, v, &e) == 0) {
            vm_node *it = vm_node_item(ok);
            vm_node_str(it, "launchTemplateId", NULL, lt.id);
            vm_node_str(it, "launchTemplateName", NULL, lt.name);
            vm_node_int(it, "versionNumber", NULL, v);
            continue;
        }
        if (e.code == VM_ERR_INTERNAL || e.code == VM_ERR_UNAVAILABLE) {
            *err = e;
            return -1;
        }
        vm_node *it = vm_node_item(bad);
        vm_node_str(it, "launchTemplateId", NULL, lt.id);
        vm_node_str(it, "launchTemplateName", NULL, lt.name);
        vm_node_int(it, "versionNumber", NULL, v);
        vm_node *re = vm_node_struct(it, "responseError", NULL);
        vm_node_str(re, "code", NULL,
                    v == lt.default_version ? "launchTemplateVersionDefaultVersion"
                    : e.code == VM_ERR_LT_VERSION_NOT_FOUND ? "launchTemplateVersionDoesNotExist"
                                                            : "unexpectedError");
        vm_node_str(re, "message", NULL, e.msg);
    }
    return 0;
}
