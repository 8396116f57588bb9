/* Routing between the services of the endpoint, with a toy Query-protocol service registered only
 * here: an action reaches the service the request was signed for and no other; another Version or an
 * unknown action is that service's InvalidAction; EC2's DescribeTags and the toy's are different. */
#include <criterion/criterion.h>

#define VMMGR_SCRATCH_CTX
#include "tmpdir.h"
#include <string.h>

#include "../../vmmgr/services/service.h"

static int toy_calls;

static int
toy_describe_tags(vm_ctx *c, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)c, (void)principal, (void)p, (void)err;
    toy_calls++;
    vm_node_str(result, "Toy", NULL, "yes");
    return 0;
}

static const svc_action toy_actions[] = {
    { "DescribeTags", toy_describe_tags },
    { NULL, NULL },
};

static const svc_desc toy = {
    .signing_name = "toy",
    .version = "2011-01-01",
    .xmlns = "https://toy.example/doc/2011-01-01/",
    .protocol = SVC_PROTO_QUERY,
    .actions = toy_actions,
};

static void
setup(void)
{
    scratch_setup();
    cr_assert_eq(svc_register(&toy), 0);
}

TestSuite(services, .init = setup, .fini = scratch_teardown);

static int
call(const svc_desc *svc, const char *action, const char *version, vm_node **resp, vm_error *err)
{
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    return svc_call(svc, ctx, "test", action, version, p, resp, err);
}

Test(services, a_request_reaches_the_service_it_was_signed_for)
{
    cr_expect_eq(svc_find("toy"), &toy);
    cr_expect_eq(svc_find("ec2"), &svc_ec2);
    cr_expect_null(svc_find("s3"));
    vm_node *r = NULL;
    vm_error err = { 0 };
    cr_assert_eq(call(&toy, "DescribeTags", "2011-01-01", &r, &err), 0, "%s", err.msg);
    cr_expect_eq(toy_calls, 1);
    cr_expect_not_null(vm_node_child(r, "Toy"), "the toy's own answer");
    vm_node_free(r);
    vm_error e2 = { 0 };
    cr_assert_eq(call(&svc_ec2, "DescribeTags", "2016-11-15", &r, &e2), 0, "%s", e2.msg);
    cr_expect_eq(toy_calls, 1, "EC2's DescribeTags is EC2's");
    cr_expect_not_null(vm_node_child(r, "tagSet"));
    vm_node_free(r);
}

Test(services, another_services_action_or_version_is_invalid_action)
{
    vm_node *r = NULL;
    vm_error e1 = { 0 }, e2 = { 0 }, e3 = { 0 };
    cr_expect_eq(call(&toy, "RunInstances", "2011-01-01", &r, &e1), -1, "signed for toy, EC2's action");
    cr_expect_str_eq(vm_error_code_name(e1.code), "InvalidAction");
    cr_expect_eq(call(&toy, "DescribeTags", "2016-11-15", &r, &e2), -1, "EC2's version");
    cr_expect_str_eq(vm_error_code_name(e2.code), "InvalidAction");
    cr_expect_eq(call(&toy, "DescribeTags", "", &r, &e3), -1, "no version");
    cr_expect_str_eq(vm_error_code_name(e3.code), "InvalidAction");
    cr_expect_eq(toy_calls, 0);
}
