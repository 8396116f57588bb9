/* Certificates (ACM's imported ones) in the store: what an HTTPS listener of a load balancer serves.
 * A certificate is checked and read with libcrypto when it is imported (its private key must match,
 * its dates and names are kept for describe); HAProxy gets it as one PEM file (certificate, chain,
 * key) that the load balancer's renderer writes beside its configuration. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/error.h"

#define ACM_ID_LEN 36 /* a UUID */
#define ACM_ARN_MAX 160

typedef struct acm_cert {
    char id[ACM_ID_LEN + 1];
    char domain[256];
    char *sans; /* newline-separated DNS names (owned) */
    char subject[256], issuer[256];
    char serial[128];
    char key_algorithm[32]; /* RSA_2048, EC_prime256v1, … */
    char signature_algorithm[48];
    time_t not_before, not_after, imported_at, created_at;
    char *cert_pem, *chain_pem, *key_pem; /* owned; chain may be "" */
} acm_cert;

void acm_cert_clear(acm_cert *c);

void acm_arn(const vm_ctx *ctx, const char *id, char arn[ACM_ARN_MAX]);
/* The certificate id an ARN of this account and region names; ValidationException-style errors as
 * ACM gives them (InvalidArnException for a malformed ARN). */
int acm_arn_id(const vm_ctx *ctx, const char *arn, char id[ACM_ID_LEN + 1], vm_error *err);

/* ImportCertificate's work: cert, key and chain (PEM text) checked and read into c (a new id, or
 * id when re-importing); nothing stored. */
int acm_cert_parse(const char *cert, size_t cert_len, const char *key, size_t key_len, const char *chain,
                   size_t chain_len, acm_cert *c, vm_error *err);
/* Records c (insert, or replace when it exists) with its tags. */
int acm_cert_put(vm_ctx *ctx, const acm_cert *c, bool replace, vm_error *err);
/* ResourceNotFoundException when there is none. */
int acm_cert_get(vm_ctx *ctx, const char *id, acm_cert *c, vm_error *err);
/* All, in creation order (owned array of owned certs: acm_certs_free). */
int acm_certs(vm_ctx *ctx, acm_cert **ret, size_t *n, vm_error *err);
void acm_certs_free(acm_cert *v, size_t n);
/* ResourceInUseException while a listener serves it. */
int acm_cert_delete(vm_ctx *ctx, const char *id, vm_error *err);

/* Writes the certificate, its chain and its key as the one PEM file HAProxy reads (mode 0600);
 * *ret_imported (when not NULL): when it was imported, which changes with a new import. */
int acm_cert_write_pem(vm_ctx *ctx, const char *id, const char *path, time_t *ret_imported, vm_error *err);
