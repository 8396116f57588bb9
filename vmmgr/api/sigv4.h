/* AWS Signature Version 4, verified on the server side (the aws CLI and boto3 sign every request).
 *
 * Checks, in order: an Authorization header of algorithm AWS4-HMAC-SHA256 with Credential,
 * SignedHeaders and Signature; a known access key; X-Amz-Date in YYYYMMDD'T'HHMMSS'Z' whose day is
 * the credential's; the time within 15 minutes of now (RequestExpired); the credential's region and
 * service are ours; every header the client signed is present and `host` is among them; then the
 * signature over the canonical request — built from the client's own SignedHeaders and the raw
 * body bytes — compared in constant time.  Secrets are never put into an error message. */
#pragma once

#include <stddef.h>
#include <time.h>

#include "../core/error.h"

typedef struct api_header {
    const char *name; /* any case */
    const char *value;
} api_header;

typedef struct api_request {
    const char *method;
    const char *path;  /* as sent, e.g. "/" */
    const char *query; /* raw query string after '?', "" when none */
    const api_header *headers;
    size_t nheaders;
    const unsigned char *body;
    size_t body_len;
} api_request;

/* The first value of header name (any case), or NULL. */
const char *api_request_header(const api_request *req, const char *name);

/* Returns the secret of access_key (owned by the caller), or NULL when there is no such key. */
typedef char *(*api_secret_fn)(void *opaque, const char *access_key);

/* 0 when the request is signed by a known key (*ret_access_key, API_KEY_MAX bytes, receives it). */
#define API_KEY_MAX 128
int api_sigv4_verify(const api_request *req, const char *region, const char *service, time_t now,
                     api_secret_fn lookup, void *opaque, char ret_access_key[API_KEY_MAX], vm_error *err);

/* The service named by the request's credential scope (unverified: for routing to the service whose
 * signing name then verifies it); -1 when the Authorization header does not name one. */
int api_sigv4_scope_service(const api_request *req, char ret_service[64]);

/* The signature a client with secret would send (hex, 65 bytes), for the given request whose
 * Authorization header names the credential scope and signed headers; used by tests and clients. */
int api_sigv4_sign(const api_request *req, const char *secret, const char *amz_date, const char *scope,
                   const char *signed_headers, char ret_sig[65], vm_error *err);

/* hex(sha256(data)) into out (65 bytes). */
void api_sha256_hex(const void *data, size_t len, char out[65]);
