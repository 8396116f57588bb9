#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmmgr/compute/domxml.h"
#include "golden.h"

static inst_domain_def
def(bool kvm)
{
    return (inst_domain_def){
        .id = "i-0123456789abcdef0",
        .reservation_id = "r-0123456789abcdef0",
        .image_id = "ami-0123456789abcdef0",
        .instance_type = "t3.micro",
        .state_dir = "/var/lib/vmmgr",
        .vcpus = 2,
        .memory_mib = 1024,
        .kvm = kvm,
        .kernel = "/var/lib/vmmgr/images/ami-0123456789abcdef0/vmlinux",
        .initrd = "/var/lib/vmmgr/images/ami-0123456789abcdef0/initrd.img",
        .disk_path = "/var/lib/vmmgr/volumes/vol-0123456789abcdef0.qcow2",
        .root_iops = 3000,
        .root_bps = 131072000,
        .root_volume_id = "vol-0123456789abcdef0",
        .console_path = "/var/lib/vmmgr/instances/i-0123456789abcdef0/console.log",
    };
}

Test(domxml, tcg_domain_caps_translation_cache)
{
    inst_domain_def d = def(false);
    vm_error err = { 0 };
    char *xml = inst_domxml_build(&d, &err);
    cr_assert_not_null(xml, "%s", err.msg);
    golden_check("domxml/tcg.xml", xml);
    free(xml);
}

Test(domxml, kvm_domain_has_no_tcg_features)
{
    inst_domain_def d = def(true);
    vm_error err = { 0 };
    char *xml = inst_domxml_build(&d, &err);
    cr_assert_not_null(xml);
    cr_expect_null(strstr(xml, "tb-cache"));
    cr_expect_not_null(strstr(xml, "<domain type=\"kvm\">"));
    golden_check("domxml/kvm.xml", xml);
    free(xml);
}

Test(domxml, paths_are_escaped_not_pasted)
{
    inst_domain_def d = def(false);
    d.state_dir = "/srv/a&b'<c>\"";
    d.console_path = "/srv/a&b'<c>\"/x.log";
    vm_error err = { 0 };
    char *xml = inst_domxml_build(&d, &err);
    cr_assert_not_null(xml);
    cr_expect_not_null(strstr(xml, "/srv/a&amp;b'&lt;c&gt;&quot;/x.log"), "%s", xml);
    cr_expect_null(strstr(xml, "<c>"));
    free(xml);
}

Test(domxml, interface_has_the_tap_name_the_firewall_knows)
{
    inst_domain_def d = def(false);
    d.nic_network = "vmmgr-subnet-0123456789abcdef0";
    d.nic_mac = "52:54:00:12:34:56";
    d.nic_tap = "vt0123456789abc";
    d.nic_ip = "172.31.0.4";
    d.subnet_id = "subnet-0123456789abcdef0";
    vm_error err = { 0 };
    char *xml = inst_domxml_build(&d, &err);
    cr_assert_not_null(xml, "%s", err.msg);
    /* the nftables elements of the interface are keyed on this name: libvirt must not choose one */
    cr_expect_not_null(strstr(xml, "<target dev=\"vt0123456789abc\"/>"), "%s", xml);
    cr_expect_null(strstr(xml, "filterref"), "%s", xml);
    golden_check("domxml/nic.xml", xml);
    free(xml);
}

Test(domxml, ec2_smbios_makes_cloud_init_choose_its_ec2_datasource)
{
    inst_domain_def d = def(false);
    char uuid[37];
    inst_ec2_uuid(d.id, uuid);
    cr_expect_str_eq(uuid, "ec201234-5678-9abc-def0-000000000000");
    d.uuid = uuid;
    d.ec2_smbios = true;
    vm_error err = { 0 };
    char *xml = inst_domxml_build(&d, &err);
    cr_assert_not_null(xml, "%s", err.msg);
    /* ds-identify: product UUID and serial both start with ec2 and are equal */
    cr_expect_not_null(strstr(xml, "<uuid>ec201234-5678-9abc-def0-000000000000</uuid>"), "%s", xml);
    cr_expect_not_null(strstr(xml, "<entry name=\"serial\">ec201234-5678-9abc-def0-000000000000</entry>"), "%s", xml);
    cr_expect_not_null(strstr(xml, "<entry name=\"manufacturer\">Amazon EC2</entry>"), "%s", xml);
    cr_expect_not_null(strstr(xml, "<smbios mode=\"sysinfo\"/>"), "%s", xml);
    golden_check("domxml/ec2.xml", xml);
    free(xml);
    /* without it: no sysinfo at all */
    d.ec2_smbios = false;
    xml = inst_domxml_build(&d, &err);
    cr_expect_null(strstr(xml, "sysinfo"), "%s", xml);
    free(xml);
}
