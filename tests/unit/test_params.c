#include <criterion/criterion.h>
#include <string.h>

#include "../../vmmgr/core/params.h"

static vm_params *
mk(const char *const *kv)
{
    vm_params *p = vm_params_new();
    for (; *kv; kv += 2)
        vm_params_set(p, kv[0], kv[1]);
    return p;
}

Test(params, indexes_are_numeric_with_gaps)
{
    _cleanup_(vm_params_freep) vm_params *p = mk((const char *[]){ "Filter.10.Name", "a", "Filter.2.Name", "b",
                                                                   "Filter.2.Value.1", "x", "Filter.7.Name", "c",
                                                                   "Other", "y", NULL });
    int *idx = NULL;
    size_t n = 0;
    vm_error err = { 0 };
    cr_assert_eq(vm_params_indexes(p, "Filter", &idx, &n, &err), 0);
    cr_assert_eq(n, 3);
    cr_expect_eq(idx[0], 2);
    cr_expect_eq(idx[1], 7);
    cr_expect_eq(idx[2], 10);
    free(idx);
}

Test(params, bad_indexes_are_refused)
{
    const char *bad[] = { "InstanceId.0", "InstanceId.x", "InstanceId.", "InstanceId.01", "InstanceId.1234567" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_(vm_params_freep) vm_params *p = mk((const char *[]){ bad[i], "v", NULL });
        int *idx = NULL;
        size_t n;
        vm_error err = { 0 };
        cr_expect_eq(vm_params_indexes(p, "InstanceId", &idx, &n, &err), -1, "%s accepted", bad[i]);
        cr_expect_eq(err.code, VM_ERR_INVALID_PARAMETER_VALUE);
    }
}

Test(params, list_follows_index_order)
{
    _cleanup_(vm_params_freep) vm_params *p =
        mk((const char *[]){ "InstanceId.3", "c", "InstanceId.1", "a", "InstanceId.2", "b", NULL });
    const char **list = NULL;
    size_t n;
    vm_error err = { 0 };
    cr_assert_eq(vm_params_list(p, "InstanceId", &list, &n, &err), 0);
    cr_assert_eq(n, 3);
    cr_expect_str_eq(list[0], "a");
    cr_expect_str_eq(list[2], "c");
    cr_expect_null(list[3]);
    free(list);
}

Test(params, last_value_wins)
{
    _cleanup_(vm_params_freep) vm_params *p = mk((const char *[]){ "ImageId", "a", "ImageId", "b", NULL });
    cr_expect_str_eq(vm_params_get(p, "ImageId"), "b");
    cr_expect_eq(p->n, 1);
}

Test(params, integers_and_booleans_are_checked)
{
    _cleanup_(vm_params_freep) vm_params *p =
        mk((const char *[]){ "MinCount", "3", "MaxCount", "9x", "DryRun", "yes", "Force", "true", NULL });
    long v;
    bool b;
    vm_error err = { 0 };
    cr_expect_eq(vm_params_int(p, "MinCount", 1, 1, 20, &v, &err), 0);
    cr_expect_eq(v, 3);
    cr_expect_eq(vm_params_int(p, "MaxCount", 1, 1, 20, &v, &err), -1);
    cr_expect_eq(err.code, VM_ERR_INVALID_PARAMETER_VALUE);
    vm_error e2 = { 0 };
    cr_expect_eq(vm_params_int(p, "Absent", 7, 1, 20, &v, &e2), 0);
    cr_expect_eq(v, 7);
    cr_expect_eq(vm_params_bool(p, "DryRun", false, &b, &e2), -1);
    vm_error e3 = { 0 };
    cr_expect_eq(vm_params_bool(p, "Force", false, &b, &e3), 0);
    cr_expect(b);
}

Test(params, canonical_form_ignores_order_and_skipped_keys)
{
    _cleanup_(vm_params_freep) vm_params *a =
        mk((const char *[]){ "ImageId", "ami-1", "MaxCount", "1", "ClientToken", "t1", NULL });
    _cleanup_(vm_params_freep) vm_params *b =
        mk((const char *[]){ "MaxCount", "1", "ClientToken", "t2", "ImageId", "ami-1", NULL });
    _cleanup_(vm_params_freep) vm_params *c = mk((const char *[]){ "MaxCount", "2", "ImageId", "ami-1", NULL });
    const char *skip[] = { "ClientToken", NULL };
    _cleanup_free_ char *ca = vm_params_canonical(a, skip), *cb = vm_params_canonical(b, skip),
                        *cc = vm_params_canonical(c, skip);
    cr_expect_str_eq(ca, cb);
    cr_expect_str_neq(ca, cc);
}

Test(params, first_error_wins)
{
    vm_error err = { 0 };
    vm_error_set(&err, VM_ERR_AMI_NOT_FOUND, "first");
    vm_error_set(&err, VM_ERR_INTERNAL, "second");
    cr_expect_eq(err.code, VM_ERR_AMI_NOT_FOUND);
    cr_expect_str_eq(err.msg, "first");
    cr_expect_str_eq(vm_error_code_name(err.code), "InvalidAMIID.NotFound");
    cr_expect_eq(vm_error_http_status(VM_ERR_DRY_RUN), 412);
}

#include "../../vmmgr/core/filter.h"

Test(filter, names_are_checked_before_use)
{
    _cleanup_(vm_params_freep) vm_params *p =
        mk((const char *[]){ "Filter.2.Name", "name", "Filter.2.Value.1", "web-*", "Filter.1.Name", "tag:Role",
                             "Filter.1.Value.1", "db", "Filter.1.Value.2", "cache", NULL });
    vm_filters *fs = NULL;
    vm_error err = { 0 };
    cr_assert_eq(vm_filters_parse(p, "DescribeImages", &fs, &err), 0, "%s", err.msg);
    cr_assert_eq(fs->n, 2);
    cr_expect_str_eq(fs->v[0].name, "tag:Role");
    cr_expect(vm_match_any("cache", fs->v[0].values));
    cr_expect(vm_match_any("web-1", fs->v[1].values));
    cr_expect_not(vm_match_any("db-1", fs->v[1].values));
    vm_filters_free(fs);

    /* DescribeRegions documents no tag filters and no "name" */
    vm_filters *none = NULL;
    vm_error e2 = { 0 };
    cr_expect_eq(vm_filters_parse(p, "DescribeRegions", &none, &e2), -1, "tag: accepted where tags are not filters");
    cr_expect_eq(e2.code, VM_ERR_INVALID_PARAMETER_VALUE);
}

Test(filter, every_documented_name_of_an_action_is_known)
{
    const char *const *vpcs = vm_filter_names("DescribeVpcs");
    cr_assert_not_null(vpcs);
    bool cidr = false, assoc = false, tag = false;
    for (; *vpcs; vpcs++) {
        cidr |= strcmp(*vpcs, "cidr-block") == 0;
        assoc |= strcmp(*vpcs, "cidr-block-association.cidr-block") == 0;
        tag |= strcmp(*vpcs, "tag:") == 0;
    }
    cr_expect(cidr && assoc && tag, "DescribeVpcs: cidr-block %d, cidr-block-association.cidr-block %d, tag: %d", cidr,
              assoc, tag);
    cr_expect_null(vm_filter_names("RunInstances"));
}
