/* Instance types: the EC2 names with their vCPUs and memory. */
#pragma once

#include "../core/ctx.h"
#include "../core/node.h"
#include "../core/filter.h"

typedef struct inst_type {
    const char *name;
    int vcpus;
    int memory_mib;
    bool burstable;
} inst_type;

#define INST_TYPE_DEFAULT "t3.micro"

/* The type called name, or NULL. */
const inst_type *inst_type_find(const char *name);
/* Action DescribeInstanceTypes (InstanceType.N, Filter.N for instance-type, vcpu-info.default-vcpus). */
/* DescribeInstanceTypes: the types named (each must exist; none: all) that pass the filters. */
int inst_types_describe(vm_ctx *ctx, const char *const *wanted, size_t nwanted, const vm_filters *fs, vm_node *resp,
                        vm_error *err);
