/* The dispatcher's contract, on an empty store and libvirt's test driver. */
#include <criterion/criterion.h>

#define VMMGR_SCRATCH_CTX
#include "tmpdir.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "../../vmmgr/services/ec2/dispatch.h"

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
        const char *kv[] = { "MaxResults", "5", token[0] ? "NextToken" : NULL, token, NULL };
        cr_assert_eq(call("DescribeInstanceTypes", kv, &r, &err), 0, "%s", err.msg);
        int n = 0;
        for (vm_node *i = vm_node_child(r, "instanceTypeSet")->first; i; i = i->next)
            n++;
        cr_expect_leq(n, 5);
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

/* The DryRun guard itself, for a handler that would forget DryRun: the store refuses writes and
 * libvirt is read-only, and both say a change was prevented. */
Test(dispatch, dry_run_guard_refuses_writes_to_store_and_libvirt)
{
    vm_ctx_dry_run(ctx, true);
    char *msg = NULL;
    cr_expect_neq(sqlite3_exec(ctx->db, "INSERT INTO config (key, value) VALUES ('dry', 'x')", NULL, NULL, &msg),
                  SQLITE_OK);
    sqlite3_free(msg);
    cr_expect(ctx->dry_run_hit, "a refused write says so");
    sqlite3_stmt *st = NULL;
    cr_expect_eq(sqlite3_prepare_v2(ctx->db, "SELECT count(*) FROM config", -1, &st, NULL), SQLITE_OK, "reads pass");
    sqlite3_finalize(st);

    vm_ctx_dry_run(ctx, true);
    vm_error err = { 0 };
    virConnectPtr conn = vm_ctx_conn(ctx, &err);
    cr_assert_not_null(conn, "%s", err.msg);
    virDomainPtr d = virDomainDefineXML(conn, "<domain type='test'><name>dry</name><memory>1024</memory>"
                                              "<os><type>hvm</type></os></domain>");
    cr_expect_null(d);
    cr_expect(ctx->dry_run_hit, "a refused libvirt change says so");
    vm_ctx_dry_run(ctx, false);
    cr_expect_eq(sqlite3_exec(ctx->db, "INSERT INTO config (key, value) VALUES ('dry', 'x')", NULL, NULL, NULL),
                 SQLITE_OK, "writes pass again after the request");
    d = virDomainDefineXML(vm_ctx_conn(ctx, &err), "<domain type='test'><name>dry</name><memory>1024</memory>"
                                                   "<os><type>hvm</type></os></domain>");
    cr_expect_not_null(d, "libvirt is read-write again after the request");
    if (d) {
        virDomainUndefine(d);
        virDomainFree(d);
    }
}

Test(dispatch, dry_run_answers_dry_run_operation_even_for_a_describe)
{
    vm_node *r = NULL;
    vm_error err = { 0 };
    cr_expect_eq(call("DescribeInstances", (const char *[]){ "DryRun", "true", NULL }, &r, &err), -1);
    cr_expect_str_eq(vm_error_code_name(err.code), "DryRunOperation");
    vm_error e2 = { 0 };
    cr_expect_eq(call("CreateVpc", (const char *[]){ "DryRun", "true", "CidrBlock", "10.9.0.0/33", NULL }, &r, &e2), -1);
    cr_expect_str_eq(vm_error_code_name(e2.code), "InvalidParameterValue", "bad input is still bad input");
    vm_error e3 = { 0 };
    cr_expect_eq(call("DescribeVpcs", (const char *[]){ "DryRun", "maybe", NULL }, &r, &e3), -1);
    cr_expect_str_eq(vm_error_code_name(e3.code), "InvalidParameterValue");
}

/* Paging in one place, with each action's limits from the model */
Test(dispatch, paging_limits_come_from_the_model)
{
    vm_node *r = NULL;
    vm_error e1 = { 0 }, e2 = { 0 }, e3 = { 0 }, e4 = { 0 };
    cr_expect_eq(call("DescribeVpcs", (const char *[]){ "MaxResults", "4", NULL }, &r, &e1), -1);
    cr_expect_str_eq(vm_error_code_name(e1.code), "InvalidParameterValue", "DescribeVpcs takes 5 to 1000");
    cr_expect_eq(call("DescribeInstanceTypes", (const char *[]){ "MaxResults", "101", NULL }, &r, &e2), -1,
                 "DescribeInstanceTypes takes at most 100");
    cr_assert_eq(call("DescribeVolumes", (const char *[]){ "MaxResults", "900", NULL }, &r, &e3), 0,
                 "DescribeVolumes cuts a larger MaxResults to 500: %s", e3.msg);
    vm_node_free(r);
    cr_expect_eq(call("DescribeInstances",
                      (const char *[]){ "MaxResults", "5", "InstanceId.1", "i-0123456789abcdef0", NULL }, &r, &e4),
                 -1);
    cr_expect_str_eq(vm_error_code_name(e4.code), "InvalidParameterCombination");
}
