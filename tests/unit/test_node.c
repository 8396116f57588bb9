#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmmgr/cli/render.h"
#include "../../vmmgr/core/node_xml.h"
#include "golden.h"

static vm_node *
sample(void)
{
    vm_node *root = vm_node_new_root("DescribeInstances");
    vm_node *rs = vm_node_list(root, "reservationSet", "Reservations");
    vm_node *r = vm_node_item(rs);
    vm_node_str(r, "reservationId", NULL, "r-0123456789abcdef0");
    vm_node *is = vm_node_list(r, "instancesSet", "Instances");
    vm_node *i = vm_node_item(is);
    vm_node_str(i, "instanceId", NULL, "i-0123456789abcdef0");
    vm_node *st = vm_node_struct(i, "instanceState", "State");
    vm_node_int(st, "code", NULL, 16);
    vm_node_str(st, "name", NULL, "running");
    vm_node_time(i, "launchTime", NULL, 1704164645);
    vm_node_bool(i, "ebsOptimized", NULL, false);
    vm_node *tags = vm_node_list(i, "tagSet", "Tags");
    vm_node *t = vm_node_item(tags);
    vm_node_str(t, "key", NULL, "</key><disk>");
    vm_node_str(t, "value", NULL, "a&b \"q\" 'x' ]]> \x01");
    vm_node_list(r, "groupSet", "Groups");
    return root;
}

Test(node, ec2_xml_escapes_user_text)
{
    vm_node *root = sample();
    char *xml = NULL;
    vm_error err = { 0 };
    cr_assert_eq(vm_node_to_xml(root, "req-1", &xml, NULL, &err), 0, "%s", err.msg);
    golden_check("node/describe.xml", xml);
    free(xml);
    vm_node_free(root);
}

Test(node, error_xml_has_code_message_and_request_id)
{
    vm_error e = { 0 }, err = { 0 };
    vm_error_set(&e, VM_ERR_INSTANCE_NOT_FOUND, "The instance ID '%s' does not exist", "i-<x>");
    char *xml = NULL;
    cr_assert_eq(vm_error_to_xml(&e, "req-2", &xml, NULL, &err), 0);
    golden_check("node/error.xml", xml);
    free(xml);
}

Test(node, error_xml_stays_well_formed_with_control_characters)
{
    /* a message that echoes a parameter name or value the client sent */
    vm_error e = { 0 }, err = { 0 };
    vm_error_set(&e, VM_ERR_UNKNOWN_PARAMETER, "The parameter %s is not recognized", "Bad\x01\x1fName");
    char *xml = NULL;
    cr_assert_eq(vm_error_to_xml(&e, "req-3", &xml, NULL, &err), 0);
    cr_expect_null(strchr(xml, '\x01'), "a control character reached the XML: %s", xml);
    cr_expect_not_null(strstr(xml, "Bad\xef\xbf\xbd\xef\xbf\xbdName"), "%s", xml);
    free(xml);
}

Test(node, json_uses_model_names_and_types)
{
    vm_node *root = sample();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_render(f, root, CLI_OUTPUT_JSON);
    fclose(f);
    golden_check("node/describe.json", buf);
    free(buf);
    vm_node_free(root);
}

Test(node, time_is_formatted_as_ec2_does)
{
    char buf[32];
    vm_time_format(1704164645, buf, sizeof(buf));
    cr_expect_str_eq(buf, "2024-01-02T03:04:05.000Z");
}
