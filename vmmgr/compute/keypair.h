/* Key pairs (EC2 CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair).
 *
 * Keys are made with OpenSSL's libcrypto.  The private key is returned once and never stored: RSA
 * as PKCS#1 PEM, ED25519 in OpenSSH's format, as EC2 returns them.  Fingerprints follow EC2: for
 * a created RSA key the SHA-1 of its PKCS#8 DER, for an imported RSA key the MD5 of its public
 * DER, for ED25519 the base64 SHA-256 of the OpenSSH public key blob. */
#pragma once

#include "../core/ctx.h"
#include "../core/node.h"
#include "../core/filter.h"
#include "../core/tags.h"

/* Typed requests from the EC2 edge (vmmgr/services/ec2/key_pairs.c), answering into resp as EC2
 * does.  type: rsa (NULL) or ed25519; format: pem (NULL). */
int kp_create(vm_ctx *ctx, const char *name, const char *type, const char *format, const vm_tag *tags, size_t ntags,
              vm_node *resp, vm_error *err);
/* material: the OpenSSH public key line, base64 (the model's Blob). */
int kp_import(vm_ctx *ctx, const char *name, const char *material, const vm_tag *tags, size_t ntags, vm_node *resp,
              vm_error *err);
/* The key pairs named or with these ids (each must exist; none: all) that pass the filters. */
int kp_describe(vm_ctx *ctx, const char *const *names, size_t nnames, const char *const *ids, size_t nids,
                const vm_filters *fs, bool with_public_key, vm_node *resp, vm_error *err);
/* By name or id; one that does not exist is no error, as on EC2. */
int kp_delete(vm_ctx *ctx, const char *name, const char *id, vm_node *resp, vm_error *err);

/* The OpenSSH public key line of key name (owned), or NULL with InvalidKeyPair.NotFound. */
char *kp_public_key(vm_ctx *ctx, const char *name, vm_error *err);

/* Parses an OpenSSH public key line ("ssh-ed25519 AAAA… comment"): its type ("rsa" or
 * "ed25519"), normalised line without comment and EC2 import fingerprint, each owned. */
int kp_parse_openssh(const char *line, char **ret_type, char **ret_line, char **ret_fingerprint, vm_error *err);
