#include "types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/filter.h"

/* vCPUs and memory as EC2 lists them */
static const inst_type types[] = {
    { "t2.nano", 1, 512, true },     { "t2.micro", 1, 1024, true },   { "t2.small", 1, 2048, true },
    { "t2.medium", 2, 4096, true },  { "t3.nano", 2, 512, true },     { "t3.micro", 2, 1024, true },
    { "t3.small", 2, 2048, true },   { "t3.medium", 2, 4096, true },  { "t3.large", 2, 8192, true },
    { "t3.xlarge", 4, 16384, true }, { "m5.large", 2, 8192, false },  { "m5.xlarge", 4, 16384, false },
    { "c5.large", 2, 4096, false },  { "c5.xlarge", 4, 8192, false }, { "r5.large", 2, 16384, false },
};

const inst_type *
inst_type_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i].name, name) == 0)
            return &types[i];
    return NULL;
}


int
inst_types_describe(vm_ctx *ctx, const char *const *wanted, size_t nwanted, const vm_filters *fs, vm_node *resp,
                    vm_error *err)
{
    for (size_t i = 0; i < nwanted; i++)
        if (!inst_type_find(wanted[i]))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The following supplied instance types do not exist: [%s]",
                                wanted[i]);

    vm_node *list = vm_node_list(resp, "instanceTypeSet", "InstanceTypes");
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const inst_type *t = &types[i];
        if (nwanted && !vm_match_any(t->name, wanted))
            continue;
        bool keep = true;
        for (size_t f = 0; keep && f < fs->n; f++) {
            const char *fn = fs->v[f].name;
            char vcpus[16], mib[24];
            snprintf(vcpus, sizeof(vcpus), "%d", t->vcpus);
            snprintf(mib, sizeof(mib), "%ld", (long)t->memory_mib);
            const char *subject = strcmp(fn, "instance-type") == 0                         ? t->name
                                  : strcmp(fn, "vcpu-info.default-vcpus") == 0             ? vcpus
                                  : strcmp(fn, "memory-info.size-in-mib") == 0             ? mib
                                  : strcmp(fn, "current-generation") == 0                  ? "true"
                                  : strcmp(fn, "burstable-performance-supported") == 0     ? "false"
                                  : strcmp(fn, "instance-storage-supported") == 0          ? "false"
                                  : strcmp(fn, "processor-info.supported-architecture") == 0 ? "x86_64"
                                  : strcmp(fn, "hypervisor") == 0 ? (strcmp(ctx->accel, "kvm") == 0 ? "kvm" : "qemu")
                                                                  : NULL;
            keep = subject && vm_match_any(subject, fs->v[f].values);
        }
        if (!keep)
            continue;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "instanceType", NULL, t->name);
        vm_node_bool(it, "currentGeneration", NULL, true);
        vm_node_bool(it, "burstablePerformanceSupported", NULL, false);
        vm_node_str(it, "hypervisor", NULL, strcmp(ctx->accel, "kvm") == 0 ? "kvm" : "qemu");
        vm_node *pi = vm_node_struct(it, "processorInfo", NULL);
        vm_node_str(vm_node_list(pi, "supportedArchitectures", NULL), NULL, NULL, "x86_64");
        vm_node *vc = vm_node_struct(it, "vCpuInfo", "VCpuInfo");
        vm_node_int(vc, "defaultVCpus", "DefaultVCpus", t->vcpus);
        vm_node_int(vm_node_struct(it, "memoryInfo", NULL), "sizeInMiB", "SizeInMiB", t->memory_mib);
        vm_node_bool(it, "instanceStorageSupported", NULL, false);
    }
    return 0;
}
