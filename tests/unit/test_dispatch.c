/* The dispatcher's contract, on an empty store and libvirt's test driver. */
#include <criterion/criterion.h>

#define VMMGR_SCRATCH_CTX
#include "tmpdir.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "../../vmmgr/dispatch.h"

TestSuite(dispatch, .init = scratch_setup, .fini = scratch_teardown);

static int
call(const char *action, const char *const *kv, vm_node **resp, vm_error *err)
{
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    for (; kv && *kv; kv += 2)
        vm_params_set(p, kv[0], kv[1]);
    return vm_dispatch(ctx, "test", action, p, resp, err);
}

Test(dispatch, unknown_action_is_invalid_action)
{
    vm_node *r = NULL;
    vm_error err = { 0 };
    cr_expect_eq(call("LaunchRockets", NULL, &r, &err), -1);
    cr_expect_str_eq(vm_error_code_name(err.code), "InvalidAction");
}

Test(dispatch, unknown_parameter_is_refused)
{
    vm_node *r = NULL;
    vm_error err = { 0 };
    cr_expect_eq(call("DescribeInstances", (const char *[]){ "Bogus.1", "x", NULL }, &r, &err), -1);
    cr_expect_str_eq(vm_error_code_name(err.code), "UnknownParameter");
}

Test(dispatch, run_instances_validates_before_anything)
{
    vm_node *r = NULL;
    vm_error err = { 0 };
    cr_expect_eq(call("RunInstances", (const char *[]){ "MinCount", "1", "MaxCount", "1", NULL }, &r, &err), -1);
    cr_expect_str_eq(vm_error_code_name(err.code), "MissingParameter");
    vm_error e2 = { 0 };
    cr_expect_eq(call("RunInstances",
                      (const char *[]){ "ImageId", "ami-0123456789abcdef0", "MinCount", "1", "MaxCount", "1", NULL },
                      &r, &e2),
                 -1);
    cr_expect_str_eq(vm_error_code_name(e2.code), "InvalidAMIID.NotFound");
}

Test(dispatch, empty_describe_has_an_empty_reservation_set)
{
    vm_node *r = NULL;
    vm_error err = { 0 };
    cr_assert_eq(call("DescribeInstances", NULL, &r, &err), 0, "%s", err.msg);
    cr_expect_str_eq(r->name, "DescribeInstancesResponse");
    vm_node *rs = vm_node_child(r, "reservationSet");
    cr_assert_not_null(rs);
    cr_expect_null(rs->first);
    vm_node_free(r);
}

Test(dispatch, pages_follow_next_token_to_the_end)
{
    int total = 0, pages = 0;
    char token[32] = "";
    do {
        vm_node *r = NULL;
        vm_error err = { 0 };
        const char *kv[] = { "MaxResults", "4", token[0] ? "NextToken" : NULL, token, NULL };
        cr_assert_eq(call("DescribeInstanceTypes", kv, &r, &err), 0, "%s", err.msg);
        int n = 0;
        for (vm_node *i = vm_node_child(r, "instanceTypeSet")->first; i; i = i->next)
            n++;
        cr_expect_leq(n, 4);
        total += n;
        pages++;
        vm_node *next = vm_node_child(r, "nextToken");
        snprintf(token, sizeof(token), "%s", next ? next->str : "");
        vm_node_free(r);
    } while (token[0] && pages < 20);
    vm_node *all = NULL;
    vm_error err = { 0 };
    cr_assert_eq(call("DescribeInstanceTypes", NULL, &all, &err), 0);
    int n = 0;
    for (vm_node *i = vm_node_child(all, "instanceTypeSet")->first; i; i = i->next)
        n++;
    vm_node_free(all);
    cr_expect_eq(total, n, "pages hold %d types, the whole list %d", total, n);
    cr_expect_gt(pages, 1);
}

Test(dispatch, instance_types_filter_by_vcpus)
{
    vm_node *r = NULL;
    vm_error err = { 0 };
    cr_assert_eq(call("DescribeInstanceTypes",
                      (const char *[]){ "Filter.1.Name", "vcpu-info.default-vcpus", "Filter.1.Value.1", "4", NULL }, &r,
                      &err),
                 0, "%s", err.msg);
    int n = 0;
    for (vm_node *i = vm_node_child(r, "instanceTypeSet")->first; i; i = i->next) {
        n++;
        cr_expect_eq(vm_node_child(vm_node_child(i, "vCpuInfo"), "defaultVCpus")->num, 4);
    }
    cr_expect_gt(n, 2);
    vm_node_free(r);
}
