#include <criterion/criterion.h>
#include <string.h>

#include "../../vmmgr/api/query.h"

static vm_params *
decode(const char *text, int want)
{
    vm_params *p = vm_params_new();
    vm_error err = { 0 };
    int rc = api_form_decode(text, strlen(text), p, &err);
    cr_assert_eq(rc, want, "'%s': %s", text, err.msg);
    if (rc < 0)
        cr_expect_eq(err.code, VM_ERR_MALFORMED_QUERY);
    return p;
}

Test(query, decodes_botocore_bodies)
{
    _cleanup_(vm_params_freep) vm_params *p =
        decode("Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0&Filter.1.Name="
               "instance-state-name&Filter.1.Value.1=running&Filter.2.Name=tag%3AName&Filter.2.Value.1=web+a%26b",
               0);
    cr_expect_str_eq(vm_params_get(p, "Filter.2.Name"), "tag:Name");
    cr_expect_str_eq(vm_params_get(p, "Filter.2.Value.1"), "web a&b");
    cr_expect_str_eq(vm_params_get(p, "Action"), "DescribeInstances");
}

Test(query, keeps_index_order_numeric)
{
    _cleanup_(vm_params_freep) vm_params *p =
        decode("InstanceId.10=i-0000000000000000a&InstanceId.2=i-00000000000000002&InstanceId.9=x", 0);
    const char **list = NULL;
    size_t n;
    vm_error err = { 0 };
    cr_assert_eq(vm_params_list(p, "InstanceId", &list, &n, &err), 0);
    cr_expect_str_eq(list[0], "i-00000000000000002");
    cr_expect_str_eq(list[1], "x");
    cr_expect_str_eq(list[2], "i-0000000000000000a");
    free(list);
}

Test(query, empty_values_and_pieces)
{
    _cleanup_(vm_params_freep) vm_params *p = decode("A=&B&&C=%2B", 0);
    cr_expect_str_eq(vm_params_get(p, "A"), "");
    cr_expect_str_eq(vm_params_get(p, "B"), "");
    cr_expect_str_eq(vm_params_get(p, "C"), "+");
}

Test(query, refuses_malformed_input)
{
    const char *bad[] = {
        "A=%",      "A=%4",     "A=%zz",       "A=1&A=2", "=x",       "A=%00",
        "A=%ff%fe", "A=%c0%af", "A=%ed%a0%80", "A=%f4%90%80%80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_(vm_params_freep) vm_params *p = decode(bad[i], -1);
        cr_expect_eq(p->n, 0, "'%s' left params", bad[i]);
    }
}

Test(query, accepts_utf8)
{
    _cleanup_(vm_params_freep) vm_params *p = decode("Tag.1.Value=%C3%A9t%C3%A9+%E2%9C%93", 0);
    cr_expect_str_eq(vm_params_get(p, "Tag.1.Value"), "été ✓");
}

Test(query, uri_encoding_is_sigv4s)
{
    char *e = api_uri_encode("a b/c~d-e_f.g*h", false);
    cr_expect_str_eq(e, "a%20b%2Fc~d-e_f.g%2Ah");
    free(e);
    e = api_uri_encode("/x y/", true);
    cr_expect_str_eq(e, "/x%20y/");
    free(e);
}
