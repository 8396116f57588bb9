#include <criterion/criterion.h>

#include "../../vmmgr/cli/shorthand.h"

static vm_params *
parse(const char *text, const char *prefix, int want_rc)
{
    vm_params *p = vm_params_new();
    vm_error err = { 0 };
    int rc = cli_shorthand_parse(text, prefix, p, &err);
    cr_assert_eq(rc, want_rc, "'%s': %s", text, err.msg);
    return p;
}

Test(shorthand, filter_with_several_values)
{
    _cleanup_(vm_params_freep) vm_params *p = parse("Name=instance-state-name,Values=running,stopped", "Filter.1", 0);
    cr_expect_str_eq(vm_params_get(p, "Filter.1.Name"), "instance-state-name");
    cr_expect_str_eq(vm_params_get(p, "Filter.1.Value.1"), "running");
    cr_expect_str_eq(vm_params_get(p, "Filter.1.Value.2"), "stopped");
    cr_expect_eq(p->n, 3);
}

Test(shorthand, values_then_another_member)
{
    _cleanup_(vm_params_freep) vm_params *p = parse("Values=a,b,Name=tag:Name", "Filter.2", 0);
    cr_expect_str_eq(vm_params_get(p, "Filter.2.Value.2"), "b");
    cr_expect_str_eq(vm_params_get(p, "Filter.2.Name"), "tag:Name");
}

Test(shorthand, tag_specification_with_struct_list)
{
    _cleanup_(vm_params_freep) vm_params *p =
        parse("ResourceType=instance,Tags=[{Key=Name,Value=web},{Key=env,Value=\"a,b=c]\"}]", "TagSpecification.1", 0);
    cr_expect_str_eq(vm_params_get(p, "TagSpecification.1.ResourceType"), "instance");
    cr_expect_str_eq(vm_params_get(p, "TagSpecification.1.Tag.1.Key"), "Name");
    cr_expect_str_eq(vm_params_get(p, "TagSpecification.1.Tag.2.Value"), "a,b=c]");
}

Test(shorthand, nested_structure)
{
    _cleanup_(vm_params_freep) vm_params *p =
        parse("DeviceName=/dev/vda,Ebs={VolumeSize=20,DeleteOnTermination=true}", "BlockDeviceMapping.1", 0);
    cr_expect_str_eq(vm_params_get(p, "BlockDeviceMapping.1.DeviceName"), "/dev/vda");
    cr_expect_str_eq(vm_params_get(p, "BlockDeviceMapping.1.Ebs.VolumeSize"), "20");
    cr_expect_str_eq(vm_params_get(p, "BlockDeviceMapping.1.Ebs.DeleteOnTermination"), "true");
}

Test(shorthand, quotes_and_escapes)
{
    _cleanup_(vm_params_freep) vm_params *p = parse("Key='x,y',Value=\"q\\\"<&>'\"", "Tag.1", 0);
    cr_expect_str_eq(vm_params_get(p, "Tag.1.Key"), "x,y");
    cr_expect_str_eq(vm_params_get(p, "Tag.1.Value"), "q\"<&>'");
}

Test(shorthand, malformed_input_changes_nothing)
{
    const char *bad[] = { "Name", "=x", "Tags=[{Key=a", "Key=\"open", "Tags=[a,b" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_(vm_params_freep) vm_params *p = parse(bad[i], "Tag.1", -1);
        cr_expect_eq(p->n, 0, "'%s' left %zu params", bad[i], p->n);
    }
}
