/* The instance metadata service at 169.254.169.254, as EC2's: IMDSv1 and IMDSv2 (session tokens),
 * the paths cloud-init and the AWS tools read, each instance's MetadataOptions enforced.
 *
 * A process of its own (`vmmgr _job imds -`, started and restarted by `vmmgr serve`), in the network
 * namespace of libvirtd's bridges, so it keeps answering while the daemon is down.  The address
 * 169.254.169.254/32 is on the loopback of that namespace (never on a bridge: dnsmasq); the service listens on a
 * socket per subnet bridge (SO_BINDTODEVICE), so the stores that share one libvirtd each answer
 * their own subnets.  A caller
 * is the instance whose interface has the source address on that subnet: the bridge table's
 * anti-spoofing (net/fw.c) makes the address trustworthy, so no guest reads another's data. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/error.h"
#include "../net/net.h"
#include "../vmmgr/compute/instance.h"

#define IMDS_ADDR NET_IMDS_ADDR
#define IMDS_TOKEN_TTL_MAX 21600

/* An answer: status and body (malloc'ed, may hold NULs: len). */
typedef struct imds_reply {
    int status;
    char *body;
    size_t len;
    const char *type; /* Content-Type */
} imds_reply;

/* GET path (below the version: "meta-data/instance-id", "user-data", "dynamic/…", "" for the
 * version's index) for instance_id.  Never fails: errors are answers (404, 500). */
void imds_get(vm_ctx *ctx, const char *instance_id, const char *path, imds_reply *r);

/* The instance whose interface has address ip on subnet_id, with its MetadataOptions: 1, or 0 when
 * none (-1 when the store cannot say). */
int imds_instance_at(vm_ctx *ctx, const char *subnet_id, const char *ip, char id[VM_ID_MAX], inst_md_opts *md);

/* Tokens (server.c): a token names its instance and expiry, signed with the store's secret. */
int imds_token_make(const unsigned char key[32], const char *instance_id, time_t expires, char *buf, size_t len);
/* 1 when token is valid now for instance_id, 0 when not. */
int imds_token_check(const unsigned char key[32], const char *instance_id, const char *token, time_t now);

/* The service's process: runs until killed (the `imds` job). */
int imds_serve(vm_ctx *ctx, vm_error *err);
/* `vmmgr serve`'s round: starts the service when it does not run (a local libvirt only). */
void imds_ensure(vm_ctx *ctx);
/* The pid of this store's running service, 0 when none. */
long imds_pid(vm_ctx *ctx);
