/* Choosing the accelerator.  /dev/kvm opening proves nothing (nested KVM can hang a Linux guest in
 * early boot), so the probe boots the tiny image's kernel under KVM and waits for its first line. */
#pragma once

#include <stddef.h>

#include "../core/ctx.h"

/* 1 when a KVM guest printed its probe line within timeout_sec, 0 when not (why says what
 * happened), -1 on error (libvirt unreachable). */
int inst_accel_probe(vm_ctx *ctx, const char *kernel, const char *initrd, int timeout_sec, char *why, size_t whylen,
                     vm_error *err);
