/* Access keys for the HTTP API (SigV4).  The secret is returned once, at creation, and kept in the
 * store only to verify signatures; the store file is readable by root alone. */
#pragma once

#include "ctx.h"
#include "node.h"

#define VM_KEY_ID_LEN 20
#define VM_KEY_SECRET_LEN 40

/* A new key: "AKIA" + 16 upper-case letters and digits, and a 40-character secret. */
int vm_key_create(vm_ctx *ctx, char ret_id[VM_KEY_ID_LEN + 1], char ret_secret[VM_KEY_SECRET_LEN + 1], vm_error *err);
/* The secret of id (owned), or NULL when there is no such key. */
char *vm_key_secret(vm_ctx *ctx, const char *id);
/* Appends accessKeySet/item{accessKeyId, createDate} (never the secrets). */
int vm_key_list(vm_ctx *ctx, vm_node *resp, vm_error *err);
int vm_key_delete(vm_ctx *ctx, const char *id, vm_error *err);
/* How many keys exist. */
int vm_key_count(vm_ctx *ctx);
