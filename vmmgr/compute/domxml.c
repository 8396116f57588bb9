#include "domxml.h"

#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/xmlw.h"


#define TCG_TB_CACHE_MIB "64"

/* One PCIe root port per disk letter, at a fixed address on bus 0: the disk vdX sits behind port
 * 00:SS.F with SS = 0x08 + L/8 and F = L%8 (L = X - 'a'), so the guest can tell the device name a
 * volume was attached as (vdf: /dev/sdf) from where it is, as AWS's udev rules read it from the
 * NVMe controller.  The port of letter X is controller index L+1, with the alias below. */
#define LETTER_PORT_SLOT 0x08
#define LETTER_PORT_ALIAS "ua-vmmgr-port-"

static void
add_letter_ports(xmlNodePtr devs)
{
    char buf[32];
    for (int l = 0; l < 26; l++) {
        xmlNodePtr c = vm_xml_elem(devs, "controller");
        vm_xml_prop(c, "type", "pci");
        vm_xml_prop(c, "index", (snprintf(buf, sizeof(buf), "%d", l + 1), buf));
        vm_xml_prop(c, "model", "pcie-root-port");
        vm_xml_prop(vm_xml_elem(c, "alias"), "name", (snprintf(buf, sizeof(buf), LETTER_PORT_ALIAS "vd%c", 'a' + l), buf));
        xmlNodePtr a = vm_xml_elem(c, "address");
        vm_xml_prop(a, "type", "pci");
        vm_xml_prop(a, "domain", "0x0000");
        vm_xml_prop(a, "bus", "0x00");
        vm_xml_prop(a, "slot", (snprintf(buf, sizeof(buf), "0x%02x", LETTER_PORT_SLOT + l / 8), buf));
        vm_xml_prop(a, "function", (snprintf(buf, sizeof(buf), "0x%x", l % 8), buf));
        if (l % 8 == 0)
            vm_xml_prop(a, "multifunction", "on");
    }
}

/* The disk with target vdX goes behind the port of letter X. */
static void
pin_disk(xmlNodePtr disk, const char *target)
{
    char bus[8];
    snprintf(bus, sizeof(bus), "0x%02x", target[2] - 'a' + 1);
    xmlNodePtr a = vm_xml_elem(disk, "address");
    vm_xml_prop(a, "type", "pci");
    vm_xml_prop(a, "domain", "0x0000");
    vm_xml_prop(a, "bus", bus);
    vm_xml_prop(a, "slot", "0x00");
    vm_xml_prop(a, "function", "0x0");
}

bool
inst_domxml_has_letter_ports(const char *domain_xml)
{
    return domain_xml && strstr(domain_xml, LETTER_PORT_ALIAS) != NULL;
}

static void
add_disk(xmlNodePtr devs, const inst_disk *d, bool pinned)
{
    char buf[32];
    xmlNodePtr disk = vm_xml_elem(devs, "disk");
    vm_xml_prop(disk, "type", "file");
    vm_xml_prop(disk, "device", "disk");
    xmlNodePtr drv = vm_xml_elem(disk, "driver");
    vm_xml_prop(drv, "name", "qemu");
    vm_xml_prop(drv, "type", "qcow2");
    vm_xml_prop(drv, "discard", "unmap");
    vm_xml_prop(vm_xml_elem(disk, "source"), "file", d->path);
    xmlNodePtr tgt = vm_xml_elem(disk, "target");
    vm_xml_prop(tgt, "dev", d->target);
    vm_xml_prop(tgt, "bus", "virtio");
    vm_xml_text(disk, "serial", d->serial);
    if (pinned)
        pin_disk(disk, d->target);
    if (d->iops || d->bytes_per_sec) {
        xmlNodePtr io = vm_xml_elem(disk, "iotune");
        if (d->iops)
            vm_xml_text(io, "total_iops_sec", (snprintf(buf, sizeof(buf), "%ld", d->iops), buf));
        if (d->bytes_per_sec)
            vm_xml_text(io, "total_bytes_sec", (snprintf(buf, sizeof(buf), "%ld", d->bytes_per_sec), buf));
    }
}

char *
inst_diskxml_build(const inst_disk *disk, bool pinned, vm_error *err)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr devs = xmlNewNode(NULL, BAD_CAST "devices");
    xmlDocSetRootElement(doc, devs);
    add_disk(devs, disk, pinned);
    return vm_xml_dump(doc, devs->children, true, err);
}

/* Free PCIe root ports: on q35 every hotplugged disk needs one. */
#define SPARE_ROOT_PORTS 8

void
inst_ec2_uuid(const char *instance_id, char buf[37])
{
    char hex[33];
    snprintf(hex, sizeof(hex), "ec2%.17s000000000000", instance_id + 2);
    snprintf(buf, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

char *
inst_domxml_build(const inst_domain_def *def, vm_error *err)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr dom = xmlNewNode(NULL, BAD_CAST "domain");
    xmlDocSetRootElement(doc, dom);
    vm_xml_prop(dom, "type", def->kvm ? "kvm" : "qemu");
    vm_xml_text(dom, "name", def->id);
    if (def->uuid)
        vm_xml_text(dom, "uuid", def->uuid);

    char buf[256];
    snprintf(buf, sizeof(buf), "vmmgr instance %s", def->id);
    vm_xml_text(dom, "title", buf);

    /* vmmgr's own facts, so `virsh dumpxml` tells what a domain is and a lost store can be rebuilt */
    xmlNodePtr md = vm_xml_elem(dom, "metadata");
    xmlNodePtr mine = xmlNewChild(md, NULL, BAD_CAST "instance", NULL);
    xmlNsPtr ns = xmlNewNs(mine, BAD_CAST VMMGR_XMLNS, BAD_CAST "vmmgr");
    xmlSetNs(mine, ns);
    xmlNewTextChild(mine, ns, BAD_CAST "id", BAD_CAST def->id);
    if (def->reservation_id)
        xmlNewTextChild(mine, ns, BAD_CAST "reservation", BAD_CAST def->reservation_id);
    if (def->image_id)
        xmlNewTextChild(mine, ns, BAD_CAST "image", BAD_CAST def->image_id);
    if (def->instance_type)
        xmlNewTextChild(mine, ns, BAD_CAST "type", BAD_CAST def->instance_type);
    if (def->root_volume_id)
        xmlNewTextChild(mine, ns, BAD_CAST "rootvolume", BAD_CAST def->root_volume_id);
    if (def->subnet_id)
        xmlNewTextChild(mine, ns, BAD_CAST "subnet", BAD_CAST def->subnet_id);
    xmlNewTextChild(mine, ns, BAD_CAST "statedir", BAD_CAST def->state_dir);

    xmlNodePtr mem = vm_xml_text(dom, "memory", (snprintf(buf, sizeof(buf), "%d", def->memory_mib), buf));
    vm_xml_prop(mem, "unit", "MiB");
    vm_xml_text(dom, "vcpu", (snprintf(buf, sizeof(buf), "%d", def->vcpus), buf));

    if (def->ec2_smbios && def->uuid) {
        xmlNodePtr si = vm_xml_elem(dom, "sysinfo");
        vm_xml_prop(si, "type", "smbios");
        xmlNodePtr sys = vm_xml_elem(si, "system");
        const char *const entries[][2] = { { "manufacturer", "Amazon EC2" },
                                           { "product", def->instance_type ? def->instance_type : "" },
                                           { "serial", def->uuid },
                                           { "uuid", def->uuid } };
        for (size_t i = 0; i < 4; i++)
            vm_xml_prop(vm_xml_text(sys, "entry", entries[i][1]), "name", entries[i][0]);
        xmlNodePtr ch = vm_xml_elem(si, "chassis");
        vm_xml_prop(vm_xml_text(ch, "entry", "Amazon EC2"), "name", "manufacturer");
        vm_xml_prop(vm_xml_text(ch, "entry", def->id), "name", "asset");
    }

    xmlNodePtr os = vm_xml_elem(dom, "os");
    if (def->uefi && !def->kernel) {
        /* OVMF without Secure Boot: imported images carry their own, unsigned, loaders */
        vm_xml_prop(os, "firmware", "efi");
        xmlNodePtr fw = vm_xml_elem(os, "firmware");
        for (int i = 0; i < 2; i++) {
            xmlNodePtr f = vm_xml_elem(fw, "feature");
            vm_xml_prop(f, "enabled", "no");
            vm_xml_prop(f, "name", i == 0 ? "secure-boot" : "enrolled-keys");
        }
    }
    xmlNodePtr type = vm_xml_text(os, "type", "hvm");
    vm_xml_prop(type, "arch", "x86_64");
    vm_xml_prop(type, "machine", "q35");
    if (def->ec2_smbios && def->uuid)
        vm_xml_prop(vm_xml_elem(os, "smbios"), "mode", "sysinfo");
    if (def->kernel) {
        vm_xml_text(os, "kernel", def->kernel);
        if (def->initrd)
            vm_xml_text(os, "initrd", def->initrd);
        /* quiet: every byte on the emulated UART costs a VM exit.  Not no_timer_check: tried against
         * a guest stalled after "MP-BIOS bug", it let guests boot with a timer that never fires
         * (RCU stall warnings: "timer wakeup didn't happen", CPU 0 in HLT).  panic=1: the kernel's
         * early IO-APIC timer check busy-waits, and a vCPU starved by a loaded host (TCG) can fail
         * it ("IO-APIC + timer doesn't work!", a panic seen in CI); the guest then reboots (the
         * domain restarts on reboot) and boots again instead of hanging */
        snprintf(buf, sizeof(buf), "console=ttyS0 quiet panic=1 root=/dev/vda rw vmmgr.instance_id=%s%s%s", def->id,
                 def->cmdline_extra ? " " : "", def->cmdline_extra ? def->cmdline_extra : "");
        vm_xml_text(os, "cmdline", buf);
    } else {
        vm_xml_prop(vm_xml_elem(os, "boot"), "dev", "hd");
    }

    xmlNodePtr features = vm_xml_elem(dom, "features");
    vm_xml_elem(features, "acpi");
    if (!def->kvm) {
        /* QEMU's default TCG translation cache is 1 GiB per guest; 64 MiB keeps density */
        xmlNodePtr tcg = vm_xml_elem(features, "tcg");
        vm_xml_prop(vm_xml_text(tcg, "tb-cache", TCG_TB_CACHE_MIB), "unit", "MiB");
    }
    vm_xml_prop(vm_xml_elem(dom, "clock"), "offset", "utc");
    vm_xml_text(dom, "on_poweroff", "destroy");
    vm_xml_text(dom, "on_reboot", "restart");
    vm_xml_text(dom, "on_crash", "destroy");

    xmlNodePtr devs = vm_xml_elem(dom, "devices");
    if (def->disk_path) {
        xmlNodePtr disk = vm_xml_elem(devs, "disk");
        vm_xml_prop(disk, "type", "file");
        vm_xml_prop(disk, "device", "disk");
        xmlNodePtr drv = vm_xml_elem(disk, "driver");
        vm_xml_prop(drv, "name", "qemu");
        vm_xml_prop(drv, "type", "qcow2"); /* never probed: a guest-written header cannot change it */
        vm_xml_prop(drv, "discard", "unmap");
        vm_xml_prop(vm_xml_elem(disk, "source"), "file", def->disk_path);
        xmlNodePtr tgt = vm_xml_elem(disk, "target");
        vm_xml_prop(tgt, "dev", "vda");
        vm_xml_prop(tgt, "bus", "virtio");
        pin_disk(disk, "vda");
        if (def->root_iops || def->root_bps) {
            char lim[32];
            xmlNodePtr io = vm_xml_elem(disk, "iotune");
            if (def->root_iops)
                vm_xml_text(io, "total_iops_sec", (snprintf(lim, sizeof(lim), "%ld", def->root_iops), lim));
            if (def->root_bps)
                vm_xml_text(io, "total_bytes_sec", (snprintf(lim, sizeof(lim), "%ld", def->root_bps), lim));
        }
    }
    if (def->config_drive) {
        /* virtio, not a CD-ROM: the guest needs no SATA or SCSI driver to find it by its label */
        xmlNodePtr disk = vm_xml_elem(devs, "disk");
        vm_xml_prop(disk, "type", "file");
        vm_xml_prop(disk, "device", "disk");
        xmlNodePtr drv = vm_xml_elem(disk, "driver");
        vm_xml_prop(drv, "name", "qemu");
        vm_xml_prop(drv, "type", "raw");
        vm_xml_prop(vm_xml_elem(disk, "source"), "file", def->config_drive);
        xmlNodePtr tgt = vm_xml_elem(disk, "target");
        vm_xml_prop(tgt, "dev", "vdz");
        vm_xml_prop(tgt, "bus", "virtio");
        vm_xml_elem(disk, "readonly");
        pin_disk(disk, "vdz");
    }
    for (size_t i = 0; i < def->ndisks; i++)
        add_disk(devs, &def->disks[i], true);
    if (def->nic_network) {
        xmlNodePtr nic = vm_xml_elem(devs, "interface");
        vm_xml_prop(nic, "type", "network");
        vm_xml_prop(vm_xml_elem(nic, "source"), "network", def->nic_network);
        vm_xml_prop(vm_xml_elem(nic, "mac"), "address", def->nic_mac);
        vm_xml_prop(vm_xml_elem(nic, "model"), "type", "virtio");
        /* the tap's name is the firewall's key for the interface (net/fw.c): no filter here */
        if (def->nic_tap)
            vm_xml_prop(vm_xml_elem(nic, "target"), "dev", def->nic_tap);
    }
    xmlNodePtr root_bus = vm_xml_elem(devs, "controller");
    vm_xml_prop(root_bus, "type", "pci");
    vm_xml_prop(root_bus, "index", "0");
    vm_xml_prop(root_bus, "model", "pcie-root");
    add_letter_ports(devs);
    for (int i = 0; i < SPARE_ROOT_PORTS; i++) {
        xmlNodePtr c = vm_xml_elem(devs, "controller");
        vm_xml_prop(c, "type", "pci");
        vm_xml_prop(c, "model", "pcie-root-port");
    }
    xmlNodePtr serial = vm_xml_elem(devs, "serial");
    vm_xml_prop(serial, "type", "file");
    xmlNodePtr src = vm_xml_elem(serial, "source");
    vm_xml_prop(src, "path", def->console_path);
    vm_xml_prop(src, "append", "on");
    vm_xml_prop(vm_xml_elem(serial, "target"), "port", "0");
    vm_xml_prop(vm_xml_elem(devs, "memballoon"), "model", "none");

    xmlChar *mem_out = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &mem_out, &len, "UTF-8", 1);
    if (!mem_out) {
        vm_error_set(err, VM_ERR_INTERNAL, "cannot serialise the domain XML of '%s'", def->id);
        return NULL;
    }
    char *out = strdup((const char *)mem_out);
    xmlFree(mem_out);
    if (!out)
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return out;
}
