/* The context's libvirt connections: vm_ctx_conn (ctx.h) opens them; these set libvirt up and close. */
#pragma once

#include "ctx.h"

/* libvirt's default error printer silenced: every error reaches the user as a vm_error. */
void vm_conn_quiet(void);
/* Both connections closed (vm_ctx_free). */
void vm_ctx_conn_close(vm_ctx *ctx);
/* The domain named name: NULL with err untouched when libvirt has none, NULL with err set when
 * libvirt fails. */
virDomainPtr vm_domain_find(virConnectPtr conn, const char *name, vm_error *err);
