#include "domxml.h"

#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"

VM_DEFINE_CLEANUP(xmlDocPtr, xmlFreeDoc)

#define TCG_TB_CACHE_MIB "64"

static xmlNodePtr
text(xmlNodePtr parent, const char *name, const char *value)
{
    return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST value);
}

static xmlNodePtr
elem(xmlNodePtr parent, const char *name)
{
    return xmlNewChild(parent, NULL, BAD_CAST name, NULL);
}

static void
prop(xmlNodePtr n, const char *name, const char *value)
{
    xmlNewProp(n, BAD_CAST name, BAD_CAST value);
}

static void
add_disk(xmlNodePtr devs, const inst_disk *d)
{
    char buf[32];
    xmlNodePtr disk = elem(devs, "disk");
    prop(disk, "type", "file");
    prop(disk, "device", "disk");
    xmlNodePtr drv = elem(disk, "driver");
    prop(drv, "name", "qemu");
    prop(drv, "type", "qcow2");
    prop(drv, "discard", "unmap");
    prop(elem(disk, "source"), "file", d->path);
    xmlNodePtr tgt = elem(disk, "target");
    prop(tgt, "dev", d->target);
    prop(tgt, "bus", "virtio");
    text(disk, "serial", d->serial);
    if (d->iops || d->bytes_per_sec) {
        xmlNodePtr io = elem(disk, "iotune");
        if (d->iops)
            text(io, "total_iops_sec", (snprintf(buf, sizeof(buf), "%ld", d->iops), buf));
        if (d->bytes_per_sec)
            text(io, "total_bytes_sec", (snprintf(buf, sizeof(buf), "%ld", d->bytes_per_sec), buf));
    }
}

static char *
dump(xmlDocPtr doc, xmlNodePtr root, vm_error *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf || xmlNodeDump(buf, doc, root, 0, 1) < 0) {
        xmlBufferFree(buf);
        vm_error_set(err, VM_ERR_INTERNAL, "cannot serialise XML");
        return NULL;
    }
    char *out = strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    if (!out)
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return out;
}

char *
inst_diskxml_build(const inst_disk *disk, vm_error *err)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr devs = xmlNewNode(NULL, BAD_CAST "devices");
    xmlDocSetRootElement(doc, devs);
    add_disk(devs, disk);
    return dump(doc, devs->children, err);
}

/* Free PCIe root ports: on q35 every hotplugged disk needs one. */
#define SPARE_ROOT_PORTS 8

char *
inst_domxml_build(const inst_domain_def *def, vm_error *err)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr dom = xmlNewNode(NULL, BAD_CAST "domain");
    xmlDocSetRootElement(doc, dom);
    prop(dom, "type", def->kvm ? "kvm" : "qemu");
    text(dom, "name", def->id);

    char buf[256];
    snprintf(buf, sizeof(buf), "vmmgr instance %s", def->id);
    text(dom, "title", buf);

    /* vmmgr's own facts, so `virsh dumpxml` tells what a domain is and a lost store can be rebuilt */
    xmlNodePtr md = elem(dom, "metadata");
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

    xmlNodePtr mem = text(dom, "memory", (snprintf(buf, sizeof(buf), "%d", def->memory_mib), buf));
    prop(mem, "unit", "MiB");
    text(dom, "vcpu", (snprintf(buf, sizeof(buf), "%d", def->vcpus), buf));

    xmlNodePtr os = elem(dom, "os");
    if (def->uefi && !def->kernel) {
        /* OVMF without Secure Boot: imported images carry their own, unsigned, loaders */
        prop(os, "firmware", "efi");
        xmlNodePtr fw = elem(os, "firmware");
        for (int i = 0; i < 2; i++) {
            xmlNodePtr f = elem(fw, "feature");
            prop(f, "enabled", "no");
            prop(f, "name", i == 0 ? "secure-boot" : "enrolled-keys");
        }
    }
    xmlNodePtr type = text(os, "type", "hvm");
    prop(type, "arch", "x86_64");
    prop(type, "machine", "q35");
    if (def->kernel) {
        text(os, "kernel", def->kernel);
        if (def->initrd)
            text(os, "initrd", def->initrd);
        /* quiet: every byte on the emulated UART costs a VM exit */
        snprintf(buf, sizeof(buf), "console=ttyS0 quiet root=/dev/vda rw vmmgr.instance_id=%s%s%s", def->id,
                 def->cmdline_extra ? " " : "", def->cmdline_extra ? def->cmdline_extra : "");
        text(os, "cmdline", buf);
    } else {
        prop(elem(os, "boot"), "dev", "hd");
    }

    xmlNodePtr features = elem(dom, "features");
    elem(features, "acpi");
    if (!def->kvm) {
        /* QEMU's default TCG translation cache is 1 GiB per guest; 64 MiB keeps density */
        xmlNodePtr tcg = elem(features, "tcg");
        prop(text(tcg, "tb-cache", TCG_TB_CACHE_MIB), "unit", "MiB");
    }
    prop(elem(dom, "clock"), "offset", "utc");
    text(dom, "on_poweroff", "destroy");
    text(dom, "on_reboot", "restart");
    text(dom, "on_crash", "destroy");

    xmlNodePtr devs = elem(dom, "devices");
    if (def->disk_path) {
        xmlNodePtr disk = elem(devs, "disk");
        prop(disk, "type", "file");
        prop(disk, "device", "disk");
        xmlNodePtr drv = elem(disk, "driver");
        prop(drv, "name", "qemu");
        prop(drv, "type", "qcow2"); /* never probed: a guest-written header cannot change it */
        prop(drv, "discard", "unmap");
        prop(elem(disk, "source"), "file", def->disk_path);
        xmlNodePtr tgt = elem(disk, "target");
        prop(tgt, "dev", "vda");
        prop(tgt, "bus", "virtio");
        if (def->root_iops || def->root_bps) {
            char lim[32];
            xmlNodePtr io = elem(disk, "iotune");
            if (def->root_iops)
                text(io, "total_iops_sec", (snprintf(lim, sizeof(lim), "%ld", def->root_iops), lim));
            if (def->root_bps)
                text(io, "total_bytes_sec", (snprintf(lim, sizeof(lim), "%ld", def->root_bps), lim));
        }
    }
    if (def->config_drive) {
        /* virtio, not a CD-ROM: the guest needs no SATA or SCSI driver to find it by its label */
        xmlNodePtr disk = elem(devs, "disk");
        prop(disk, "type", "file");
        prop(disk, "device", "disk");
        xmlNodePtr drv = elem(disk, "driver");
        prop(drv, "name", "qemu");
        prop(drv, "type", "raw");
        prop(elem(disk, "source"), "file", def->config_drive);
        xmlNodePtr tgt = elem(disk, "target");
        prop(tgt, "dev", "vdz");
        prop(tgt, "bus", "virtio");
        elem(disk, "readonly");
    }
    for (size_t i = 0; i < def->ndisks; i++)
        add_disk(devs, &def->disks[i]);
    if (def->nic_network) {
        xmlNodePtr nic = elem(devs, "interface");
        prop(nic, "type", "network");
        prop(elem(nic, "source"), "network", def->nic_network);
        prop(elem(nic, "mac"), "address", def->nic_mac);
        prop(elem(nic, "model"), "type", "virtio");
        /* anti-spoofing with the address vmmgr gave, never one learnt from the guest */
        xmlNodePtr f = elem(nic, "filterref");
        prop(f, "filter", def->nic_filter);
        xmlNodePtr ip = elem(f, "parameter");
        prop(ip, "name", "IP");
        prop(ip, "value", def->nic_ip);
        xmlNodePtr learn = elem(f, "parameter");
        prop(learn, "name", "CTRL_IP_LEARNING");
        prop(learn, "value", "none");
    }
    xmlNodePtr root_bus = elem(devs, "controller");
    prop(root_bus, "type", "pci");
    prop(root_bus, "index", "0");
    prop(root_bus, "model", "pcie-root");
    for (int i = 0; i < SPARE_ROOT_PORTS; i++) {
        xmlNodePtr c = elem(devs, "controller");
        prop(c, "type", "pci");
        prop(c, "model", "pcie-root-port");
    }
    xmlNodePtr serial = elem(devs, "serial");
    prop(serial, "type", "file");
    xmlNodePtr src = elem(serial, "source");
    prop(src, "path", def->console_path);
    prop(src, "append", "on");
    prop(elem(serial, "target"), "port", "0");
    prop(elem(devs, "memballoon"), "model", "none");

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
