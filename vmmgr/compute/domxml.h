/* Domain XML for an instance, built with libxml2's tree API: attribute and text values go through
 * xmlNewProp / xmlNewTextChild, which escape them.  Only ids that passed vm_id_valid reach <name>. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "../core/error.h"
#include "../../storage/volume.h"

#define VMMGR_XMLNS "https://vmmgr.dev/xmlns/instance/1"

typedef struct inst_domain_def {
    const char *id;             /* i-…; also the domain name */
    const char *reservation_id;
    const char *image_id;
    const char *instance_type;
    const char *root_volume_id; /* or NULL */
    const char *state_dir;      /* the owner: reconcile only adopts its own domains */
    int vcpus;
    int memory_mib;
    bool kvm;                   /* domain type kvm, else qemu (TCG, translation cache capped) */
    bool uefi;                  /* firmware: UEFI (OVMF) instead of SeaBIOS, when not direct boot */
    const char *kernel;         /* direct boot (PVH vmlinux), or NULL */
    const char *initrd;
    const char *cmdline_extra;  /* appended to the kernel command line, or NULL */
    const char *disk_path;      /* root overlay (qcow2), or NULL */
    long root_iops, root_bps;   /* the root volume's I/O limits (0: none) */
    const char *config_drive;   /* NoCloud ISO (read-only), or NULL */
    const char *console_path;   /* serial log */
    const vol_disk *disks;      /* attached volumes, in the persistent definition */
    size_t ndisks;
    /* the primary network interface, or nic_network NULL for none */
    const char *nic_network;    /* libvirt network (the subnet's) */
    const char *nic_mac;
    const char *nic_tap;        /* the tap device's name */
    const char *nic_ip;         /* its address (the firewall lets it use no other) */
    const char *subnet_id;
    /* the domain's UUID, or NULL for libvirt's choice.  ec2_smbios: the SMBIOS strings of an EC2
     * instance (system manufacturer "Amazon EC2", product the instance type, serial = UUID, which
     * then starts with "ec2"; chassis asset tag the instance id), by which cloud-init's ds-identify
     * chooses its EC2 datasource (the metadata service) */
    const char *uuid;
    bool ec2_smbios;
} inst_domain_def;

/* A volume attached as a virtio disk (storage's vol_disk). */
typedef vol_disk inst_disk;

/* The <disk> element alone, for hotplug (owned string); pinned: behind its letter's PCIe port
 * (only in a domain that has them: inst_domxml_has_letter_ports). */
char *inst_diskxml_build(const inst_disk *disk, bool pinned, vm_error *err);
/* Whether a domain's XML has the per-letter ports (domains defined by older vmmgr do not). */
bool inst_domxml_has_letter_ports(const char *domain_xml);

/* The UUID EC2 instances have ("ec2" and hex digits) for instance id: "ec2" + its 17 digits + 12 zeros. */
void inst_ec2_uuid(const char *instance_id, char buf[37]);
/* The domain XML as a string owned by the caller. */
char *inst_domxml_build(const inst_domain_def *def, vm_error *err);
