#include <criterion/criterion.h>
#include <string.h>

#include "../../net/cidr.h"

Test(cidr, parses_and_formats)
{
    net_cidr c;
    char buf[NET_CIDR_MAX];
    cr_assert(net_cidr_parse("172.31.0.0/16", true, &c));
    cr_expect_eq(c.prefix, 16);
    net_cidr_format(&c, buf);
    cr_expect_str_eq(buf, "172.31.0.0/16");
    cr_assert(net_cidr_parse("0.0.0.0/0", true, &c));
    cr_expect_eq(net_cidr_size(&c), 1ull << 32);
}

Test(cidr, refuses_malformed)
{
    static const char *const bad[] = { "", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0/16", "10.0.0.0.0/16",
                                       "256.0.0.0/8", "10.0.0.0/016", "010.0.0.0/8", "10.0.0.0/1a", "a.b.c.d/8",
                                       "10.0.0.0/-1", " 10.0.0.0/8", "10.0.0.0/8 " };
    net_cidr c;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_not(net_cidr_parse(bad[i], false, &c), "'%s' was accepted", bad[i]);
}

Test(cidr, host_bits)
{
    net_cidr c;
    char buf[NET_CIDR_MAX];
    cr_expect_not(net_cidr_parse("10.0.0.5/24", true, &c));
    cr_assert(net_cidr_parse("10.0.0.5/24", false, &c));
    net_cidr_format(&c, buf);
    cr_expect_str_eq(buf, "10.0.0.0/24");
}

Test(cidr, containment_and_overlap)
{
    net_cidr vpc, a, b, other;
    cr_assert(net_cidr_parse("10.0.0.0/16", true, &vpc));
    cr_assert(net_cidr_parse("10.0.1.0/24", true, &a));
    cr_assert(net_cidr_parse("10.0.1.128/25", true, &b));
    cr_assert(net_cidr_parse("10.1.0.0/24", true, &other));
    cr_expect(net_cidr_contains(&vpc, &a));
    cr_expect_not(net_cidr_contains(&a, &vpc));
    cr_expect_not(net_cidr_contains(&vpc, &other));
    cr_expect(net_cidr_overlap(&a, &b));
    cr_expect(net_cidr_overlap(&b, &a));
    cr_expect_not(net_cidr_overlap(&a, &other));
}

Test(cidr, aws_reserves_five_addresses)
{
    net_cidr c;
    char buf[NET_ADDR_MAX];
    cr_assert(net_cidr_parse("172.31.0.0/20", true, &c));
    cr_expect_eq(net_subnet_usable(&c), 4091);
    net_addr_format(net_subnet_gateway(&c), buf);
    cr_expect_str_eq(buf, "172.31.0.1");
    net_addr_format(net_subnet_first(&c), buf);
    cr_expect_str_eq(buf, "172.31.0.4");
    net_addr_format(net_subnet_last(&c), buf);
    cr_expect_str_eq(buf, "172.31.15.254");
    cr_assert(net_cidr_parse("10.0.0.16/28", true, &c));
    cr_expect_eq(net_subnet_usable(&c), 11);
}
