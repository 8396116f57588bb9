#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "../../vmmgr/core/ids.h"

Test(ids, new_ids_have_ec2_shape)
{
    char a[VM_ID_MAX], b[VM_ID_MAX];
    vm_id_new("i", a);
    vm_id_new("i", b);
    cr_expect_eq(strlen(a), 2 + 17);
    cr_expect(vm_id_valid(a, "i"), "%s", a);
    cr_expect_str_neq(a, b);
    vm_id_new("ami", a);
    cr_expect(vm_id_valid(a, "ami"));
    cr_expect_not(vm_id_valid(a, "i"));
}

struct bad_id {
    char id[48];
};

ParameterizedTestParameters(ids, refuses_malformed)
{
    static struct bad_id bad[] = {
        { "" }, { "i-" }, { "i-0123456" }, { "i-0123456789abcdef01" }, { "i-0123456789ABCDEF0" },
        { "i-../../etc" }, { "i-01234567/" }, { "x-0123456789abcdef0" }, { "i_0123456789abcdef0" },
        { "i-0123456789abcdef0 " }, { "ami-0123456789abcdef0" },
    };
    return cr_make_param_array(struct bad_id, bad, sizeof(bad) / sizeof(bad[0]));
}

ParameterizedTest(struct bad_id *b, ids, refuses_malformed)
{
    cr_expect_not(vm_id_valid(b->id, "i"), "'%s' accepted", b->id);
}

Test(ids, accepts_old_and_new_lengths)
{
    cr_expect(vm_id_valid("i-01234567", "i"));
    cr_expect(vm_id_valid("i-0123456789abcdef0", "i"));
    cr_expect_not(vm_id_valid(NULL, "i"));
}
