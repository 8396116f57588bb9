#include "accel.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/ids.h"
#include "domxml.h"

#define PROBE_LINE "vmmgr: probe ok"

static bool
file_contains(const char *path, const char *needle)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    return strstr(buf, needle) != NULL;
}

int
inst_accel_probe(vm_ctx *ctx, const char *kernel, const char *initrd, int timeout_sec, char *why, size_t whylen,
                 vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    _cleanup_free_ char *caps = virConnectGetDomainCapabilities(conn, NULL, "x86_64", "q35", "kvm", 0);
    if (!caps) {
        virErrorPtr e = virGetLastError();
        snprintf(why, whylen, "libvirt offers no KVM domains here (%s)", e && e->message ? e->message : "unknown");
        virResetLastError();
        return 0;
    }

    char name[VM_ID_MAX + 8], console[4096];
    vm_id_new("probe", name);
    snprintf(console, sizeof(console), "%s/%s.log", ctx->state_dir, name);
    inst_domain_def def = {
        .id = name,
        .state_dir = ctx->state_dir,
        .vcpus = 1,
        .memory_mib = 256,
        .kvm = true,
        .kernel = kernel,
        .initrd = initrd,
        .cmdline_extra = "vmmgr.probe=1",
        .console_path = console,
    };
    _cleanup_free_ char *xml = inst_domxml_build(&def, err);
    if (!xml)
        return -1;
    /* AUTODESTROY: if vmmgr dies mid-probe, libvirt kills the probe guest with the connection */
    virDomainPtr d = virDomainCreateXML(conn, xml, VIR_DOMAIN_START_AUTODESTROY);
    if (!d) {
        virErrorPtr e = virGetLastError();
        snprintf(why, whylen, "a KVM guest could not start (%s)", e && e->message ? e->message : "unknown");
        virResetLastError();
        unlink(console);
        return 0;
    }
    struct timespec start, nowts;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int ok = 0;
    for (;;) {
        if (file_contains(console, PROBE_LINE)) {
            ok = 1;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &nowts);
        if (nowts.tv_sec - start.tv_sec >= timeout_sec)
            break;
        usleep(100 * 1000);
    }
    if (virDomainIsActive(d) == 1)
        virDomainDestroy(d);
    virDomainFree(d);
    unlink(console);
    if (!ok)
        snprintf(why, whylen, "a Linux guest under KVM printed nothing in %d s (nested KVM that hangs in early boot?)",
                 timeout_sec);
    return ok;
}
