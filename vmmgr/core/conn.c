/* The context's libvirt connections (conn.h): the core's one mechanism, beside the store (ctx.c,
 * db.c).  A read-only connection under DryRun, a read-write one otherwise, each opened on first use
 * and again when libvirt dropped it. */
#include "conn.h"

#include <errno.h>
#include <libvirt/virterror.h>

static void
quiet_virt_errors(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

void
vm_conn_quiet(void)
{
    virSetErrorFunc(NULL, quiet_virt_errors);
}

/* libvirt's read-only connection refuses every change: under DryRun that is a change prevented */
static void
ro_error(void *data, virErrorPtr e)
{
    vm_ctx *ctx = data;
    if (e && e->code == VIR_ERR_OPERATION_DENIED)
        ctx->dry_run_hit = true;
}

/* What a newcomer meets first: each failure to reach libvirt says what to do about it. */
static void
conn_error(const char *uri, virErrorPtr e, vm_error *err)
{
    const char *msg = e && e->message ? e->message : "unknown error";
    if (e && e->code == VIR_ERR_NO_CONNECT)
        vm_error_set(err, VM_ERR_UNAVAILABLE,
                     "the libvirtd at '%s' has no QEMU driver (%s): install Debian's libvirt-daemon-driver-qemu "
                     "(apt-get install libvirt-daemon-system) and restart libvirtd",
                     uri, msg);
    else if (e && e->code == VIR_ERR_SYSTEM_ERROR && (e->int1 == ENOENT || e->int1 == ECONNREFUSED))
        vm_error_set(err, VM_ERR_UNAVAILABLE,
                     "no libvirtd answers at '%s' (%s): start it (systemctl start libvirtd; or scripts/libvirtd.sh, "
                     "which starts one in a network namespace of its own), or name another with --connect URI or "
                     "VMMGR_LIBVIRT_URI",
                     uri, msg);
    else if (e && e->code == VIR_ERR_SYSTEM_ERROR && e->int1 == EACCES)
        vm_error_set(err, VM_ERR_UNAVAILABLE,
                     "permission denied on the libvirt socket of '%s' (%s): run vmmgr as root, or as a member of "
                     "the 'libvirt' group",
                     uri, msg);
    else
        vm_error_set(err, VM_ERR_UNAVAILABLE, "cannot connect to libvirt at '%s': %s", uri, msg);
}

virConnectPtr
vm_ctx_conn(vm_ctx *ctx, vm_error *err)
{
    if (ctx->dry_run) {
        if (ctx->conn_ro && virConnectIsAlive(ctx->conn_ro) == 1)
            return ctx->conn_ro;
        if (ctx->conn_ro)
            virConnectClose(ctx->conn_ro);
        if (!(ctx->conn_ro = virConnectOpenReadOnly(ctx->uri))) {
            conn_error(ctx->uri, virGetLastError(), err);
            return NULL;
        }
        virConnSetErrorFunc(ctx->conn_ro, ctx, ro_error);
        return ctx->conn_ro;
    }
    if (ctx->conn && virConnectIsAlive(ctx->conn) == 1)
        return ctx->conn;
    if (ctx->conn) {
        virConnectClose(ctx->conn);
        ctx->conn = NULL;
    }
    ctx->conn = virConnectOpen(ctx->uri);
    if (!ctx->conn) {
        conn_error(ctx->uri, virGetLastError(), err);
        return NULL;
    }
    /* a libvirtd that stops answering makes calls fail after ~15 s instead of hanging forever */
    if (ctx->keepalive)
        virConnectSetKeepAlive(ctx->conn, 5, 3);
    return ctx->conn;
}

void
vm_ctx_conn_close(vm_ctx *ctx)
{
    if (ctx->conn)
        virConnectClose(ctx->conn);
    if (ctx->conn_ro)
        virConnectClose(ctx->conn_ro);
    ctx->conn = ctx->conn_ro = NULL;
}

virDomainPtr
vm_domain_find(virConnectPtr conn, const char *name, vm_error *err)
{
    virDomainPtr d = virDomainLookupByName(conn, name);
    if (!d) {
        virErrorPtr e = virGetLastError();
        if (!e || e->code != VIR_ERR_NO_DOMAIN)
            vm_error_from_virt(err, "looking up domain '%s'", name);
        virResetLastError();
    }
    return d;
}
