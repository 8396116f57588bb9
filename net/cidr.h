/* IPv4 blocks as VPCs and subnets use them: "10.0.0.0/16".  Pure functions, unit-tested. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct net_cidr {
    uint32_t addr; /* network address, host order, host bits zero */
    int prefix;    /* 0..32 */
} net_cidr;

#define NET_ADDR_MAX 16 /* "255.255.255.255" */
#define NET_CIDR_MAX 19 /* "255.255.255.255/32" */

/* Parses a dotted quad; false on anything else (no leading zeros, no shorthand). */
bool net_addr_parse(const char *s, uint32_t *ret);
void net_addr_format(uint32_t a, char buf[NET_ADDR_MAX]);
/* Parses "A.B.C.D/N".  With strict, host bits must be zero (as CreateVpc demands); otherwise
 * they are cleared (as security group rules allow). */
bool net_cidr_parse(const char *s, bool strict, net_cidr *ret);
void net_cidr_format(const net_cidr *c, char buf[NET_CIDR_MAX]);
uint32_t net_cidr_mask(const net_cidr *c);
uint64_t net_cidr_size(const net_cidr *c);
bool net_cidr_contains(const net_cidr *outer, const net_cidr *inner);
bool net_cidr_has(const net_cidr *c, uint32_t addr);
bool net_cidr_overlap(const net_cidr *a, const net_cidr *b);
/* The first and last address an instance may have: AWS keeps the network address, the router
 * (+1), DNS (+2), one for later (+3) and the broadcast address.  The router (gateway) is +1. */
uint32_t net_subnet_first(const net_cidr *c);
uint32_t net_subnet_last(const net_cidr *c);
uint32_t net_subnet_gateway(const net_cidr *c);
/* Addresses instances can have: size - 5. */
uint64_t net_subnet_usable(const net_cidr *c);
