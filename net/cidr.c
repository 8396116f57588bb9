#include "cidr.h"

#include <stdio.h>
#include <stdlib.h>

bool
net_addr_parse(const char *s, uint32_t *ret)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned v = 0;
        const char *start = s;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (v > 255 || s - start > 3)
                return false;
        }
        if (s - start > 1 && *start == '0')
            return false;
        a = a << 8 | v;
        if (i < 3 && *s++ != '.')
            return false;
    }
    if (*s)
        return false;
    *ret = a;
    return true;
}

void
net_addr_format(uint32_t a, char buf[NET_ADDR_MAX])
{
    snprintf(buf, NET_ADDR_MAX, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

uint32_t
net_cidr_mask(const net_cidr *c)
{
    return c->prefix == 0 ? 0 : 0xffffffffu << (32 - c->prefix);
}

bool
net_cidr_parse(const char *s, bool strict, net_cidr *ret)
{
    char buf[NET_CIDR_MAX + 1];
    const char *slash = s;
    while (*slash && *slash != '/')
        slash++;
    if (*slash != '/' || (size_t)(slash - s) >= sizeof(buf))
        return false;
    snprintf(buf, sizeof(buf), "%.*s", (int)(slash - s), s);
    net_cidr c;
    if (!net_addr_parse(buf, &c.addr))
        return false;
    const char *p = slash + 1;
    size_t digits = 0;
    while (p[digits] >= '0' && p[digits] <= '9')
        digits++;
    if (digits == 0 || digits > 2 || p[digits] || (digits == 2 && p[0] == '0'))
        return false;
    char *end;
    long n = strtol(p, &end, 10);
    if (*end || n < 0 || n > 32)
        return false;
    c.prefix = (int)n;
    if ((c.addr & ~net_cidr_mask(&c)) != 0) {
        if (strict)
            return false;
        c.addr &= net_cidr_mask(&c);
    }
    *ret = c;
    return true;
}

void
net_cidr_format(const net_cidr *c, char buf[NET_CIDR_MAX])
{
    char a[NET_ADDR_MAX];
    net_addr_format(c->addr, a);
    snprintf(buf, NET_CIDR_MAX, "%s/%d", a, c->prefix);
}

uint64_t
net_cidr_size(const net_cidr *c)
{
    return (uint64_t)1 << (32 - c->prefix);
}

bool
net_cidr_has(const net_cidr *c, uint32_t addr)
{
    return (addr & net_cidr_mask(c)) == c->addr;
}

bool
net_cidr_contains(const net_cidr *outer, const net_cidr *inner)
{
    return inner->prefix >= outer->prefix && net_cidr_has(outer, inner->addr);
}

bool
net_cidr_overlap(const net_cidr *a, const net_cidr *b)
{
    return net_cidr_contains(a, b) || net_cidr_contains(b, a);
}

uint32_t
net_subnet_gateway(const net_cidr *c)
{
    return c->addr + 1;
}

uint32_t
net_subnet_first(const net_cidr *c)
{
    return c->addr + 4;
}

uint32_t
net_subnet_last(const net_cidr *c)
{
    return c->addr + (uint32_t)(net_cidr_size(c) - 2);
}

uint64_t
net_subnet_usable(const net_cidr *c)
{
    return net_cidr_size(c) >= 8 ? net_cidr_size(c) - 5 : 0;
}
