/* Domain XML for an instance, built with libxml2's tree API: attribute and text values go through
 * xmlNewProp / xmlNewTextChild, which escape them.  Only ids that passed vm_id_valid reach <name>. */
#pragma once

#include <stdbool.h>

#include "../core/error.h"

#define VMMGR_XMLNS "https://vmmgr.dev/xmlns/instance/1"

typedef struct inst_domain_def {
    const char *id;             /* i-…; also the domain name */
    const char *reservation_id;
    const char *image_id;
    const char *instance_type;
    const char *state_dir;      /* the owner: reconcile only adopts its own domains */
    int vcpus;
    int memory_mib;
    bool kvm;                   /* domain type kvm, else qemu (TCG, translation cache capped) */
    bool uefi;                  /* firmware: UEFI (OVMF) instead of SeaBIOS, when not direct boot */
    const char *kernel;         /* direct boot (PVH vmlinux), or NULL */
    const char *initrd;
    const char *cmdline_extra;  /* appended to the kernel command line, or NULL */
    const char *disk_path;      /* root overlay (qcow2), or NULL */
    const char *config_drive;   /* NoCloud ISO (read-only), or NULL */
    const char *console_path;   /* serial log */
} inst_domain_def;

/* The domain XML as a string owned by the caller. */
char *inst_domxml_build(const inst_domain_def *def, vm_error *err);
