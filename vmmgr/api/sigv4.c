#include "sigv4.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/cleanup.h"
#include "query.h"

#define MAX_SKEW_SEC (15 * 60)

static void
to_hex(const unsigned char *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void
api_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    to_hex(md, mdlen, out);
}

static void
hmac(const void *key, size_t keylen, const char *data, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, strlen(data), out, &len);
}

const char *
api_request_header(const api_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* All values of header name (any case), comma-joined, whitespace runs collapsed; NULL if absent. */
static char *
header_value(const api_request *req, const char *name)
{
    size_t total = 0;
    bool found = false;
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0) {
            total += strlen(req->headers[i].value) + 1;
            found = true;
        }
    if (!found)
        return NULL;
    char *out = malloc(total + 1), *w = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strcasecmp(req->headers[i].name, name) != 0)
            continue;
        if (w != out)
            *w++ = ',';
        const char *v = req->headers[i].value;
        while (*v == ' ' || *v == '\t')
            v++;
        bool space = false;
        for (; *v; v++) {
            if (*v == ' ' || *v == '\t') {
                space = true;
                continue;
            }
            if (space && w != out && w[-1] != ',')
                *w++ = ' ';
            space = false;
            *w++ = *v;
        }
    }
    *w = '\0';
    return out;
}

typedef struct qpair {
    char *k, *v;
} qpair;

static int
cmp_qpair(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* The query string, each key and value decoded and re-encoded, sorted. */
static char *
canonical_query(const char *query, vm_error *err)
{
    size_t n = 0, cap = 8;
    qpair *pairs = calloc(cap, sizeof(qpair));
    char *out = NULL;
    if (!pairs)
        goto oom;
    for (const char *p = query; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            _cleanup_free_ char *k = api_url_decode(p, klen, false, err);
            _cleanup_free_ char *v = eq ? api_url_decode(eq + 1, len - klen - 1, false, err) : strdup("");
            if (!k || !v)
                goto fail;
            if (n == cap) {
                qpair *np = realloc(pairs, 2 * cap * sizeof(qpair));
                if (!np)
                    goto oom;
                pairs = np;
                cap *= 2;
            }
            pairs[n].k = api_uri_encode(k, false);
            pairs[n].v = api_uri_encode(v, false);
            n++;
            if (!pairs[n - 1].k || !pairs[n - 1].v)
                goto oom;
        }
        p += len + (end ? 1 : 0);
    }
    qsort(pairs, n, sizeof(qpair), cmp_qpair);
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(pairs[i].k) + strlen(pairs[i].v) + 2;
    if (!(out = malloc(total)))
        goto oom;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, "&");
        strcat(out, pairs[i].k);
        strcat(out, "=");
        strcat(out, pairs[i].v);
    }
    goto done;
oom:
    vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
fail:
    free(out);
    out = NULL;
done:
    for (size_t i = 0; pairs && i < n; i++) {
        free(pairs[i].k);
        free(pairs[i].v);
    }
    free(pairs);
    return out;
}

/* The path, decoded, with "." and ".." segments and empty segments removed, re-encoded. */
static char *
canonical_uri(const char *path, vm_error *err)
{
    _cleanup_free_ char *dec = api_url_decode(path && *path ? path : "/", strlen(path && *path ? path : "/"), false,
                                              err);
    if (!dec)
        return NULL;
    _cleanup_free_ char *norm = calloc(1, strlen(dec) + 2);
    if (!norm) {
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    size_t n = 0;
    bool trailing = strlen(dec) > 1 && dec[strlen(dec) - 1] == '/';
    for (char *save = NULL, *seg = strtok_r(dec, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            while (n > 0 && norm[n - 1] != '/')
                n--;
            if (n > 0)
                n--;
            norm[n] = '\0';
            continue;
        }
        norm[n++] = '/';
        strcpy(norm + n, seg);
        n += strlen(seg);
    }
    if (n == 0 || trailing)
        norm[n++] = '/';
    norm[n] = '\0';
    return api_uri_encode(norm, true);
}

static bool
listed(const char *signed_headers, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = signed_headers; p && *p;) {
        const char *end = strchr(p, ';');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l == len && strncmp(p, name, len) == 0)
            return true;
        p += l + (end ? 1 : 0);
    }
    return false;
}

int
api_sigv4_sign(const api_request *req, const char *secret, const char *amz_date, const char *scope,
               const char *signed_headers, char ret_sig[65], vm_error *err)
{
    _cleanup_free_ char *uri = canonical_uri(req->path, err);
    _cleanup_free_ char *query = uri ? canonical_query(req->query, err) : NULL;
    if (!query)
        return -1;

    /* canonical headers, in the order of the (sorted) SignedHeaders list */
    size_t cap = 256, len = 0;
    _cleanup_free_ char *headers = malloc(cap);
    if (!headers)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    headers[0] = '\0';
    for (const char *p = signed_headers; *p;) {
        const char *end = strchr(p, ';');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        char name[128];
        if (l == 0 || l >= sizeof(name))
            return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE, "SignedHeaders has an empty or overlong name");
        memcpy(name, p, l);
        name[l] = '\0';
        for (char *c = name; *c; c++)
            if (isupper((unsigned char)*c))
                return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE, "SignedHeaders must be lower case");
        _cleanup_free_ char *v = header_value(req, name);
        if (!v)
            return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE,
                                "header '%s' is listed in SignedHeaders but not present in the request", name);
        size_t need = l + strlen(v) + 3;
        if (len + need >= cap) {
            cap = 2 * (len + need);
            char *nh = realloc(headers, cap);
            if (!nh)
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            headers = nh;
        }
        len += (size_t)sprintf(headers + len, "%s:%s\n", name, v);
        p += l + (end ? 1 : 0);
    }

    char body_hash[65];
    api_sha256_hex(req->body ? (const void *)req->body : "", req->body_len, body_hash);
    _cleanup_free_ char *x_hash = header_value(req, "x-amz-content-sha256");
    if (x_hash && strcmp(x_hash, body_hash) != 0)
        return vm_error_set(err, VM_ERR_SIGNATURE_MISMATCH, "X-Amz-Content-SHA256 does not match the body");

    size_t clen = strlen(req->method) + strlen(uri) + strlen(query) + len + strlen(signed_headers) + 64 + 8;
    _cleanup_free_ char *creq = malloc(clen);
    if (!creq)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    snprintf(creq, clen, "%s\n%s\n%s\n%s\n%s\n%s", req->method, uri, query, headers, signed_headers, body_hash);
    char creq_hash[65];
    api_sha256_hex(creq, strlen(creq), creq_hash);

    char sts[512];
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, creq_hash);

    /* scope is DATE/REGION/SERVICE/aws4_request */
    char parts[4][64] = { { 0 } };
    if (sscanf(scope, "%63[^/]/%63[^/]/%63[^/]/%63s", parts[0], parts[1], parts[2], parts[3]) != 4)
        return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE, "malformed credential scope");
    size_t slen = strlen(secret);
    _cleanup_free_ char *k0 = malloc(slen + 5);
    if (!k0)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, slen + 1);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac(k0, slen + 4, parts[0], k1);
    hmac(k1, 32, parts[1], k2);
    hmac(k2, 32, parts[2], k3);
    hmac(k3, 32, parts[3], k4);
    hmac(k4, 32, sts, sig);
    OPENSSL_cleanse(k0, slen + 4);
    OPENSSL_cleanse(k4, sizeof(k4));
    to_hex(sig, 32, ret_sig);
    return 0;
}

/* "Credential=…, SignedHeaders=…, Signature=…" → the three values (owned by the caller). */
static int
parse_authorization(const char *auth, char **cred, char **signed_headers, char **sig, vm_error *err)
{
    const char *alg = "AWS4-HMAC-SHA256";
    size_t alen = strlen(alg);
    if (strncmp(auth, alg, alen) != 0 || (auth[alen] != ' ' && auth[alen] != '\t'))
        return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE,
                            "Authorization header must use the algorithm AWS4-HMAC-SHA256");
    for (const char *p = auth + alen; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE, "malformed Authorization header");
        size_t klen = (size_t)(eq - p);
        char **dst = klen == 10 && strncmp(p, "Credential", 10) == 0      ? cred
                     : klen == 13 && strncmp(p, "SignedHeaders", 13) == 0 ? signed_headers
                     : klen == 9 && strncmp(p, "Signature", 9) == 0       ? sig
                                                                          : NULL;
        if (dst) {
            if (*dst)
                return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE, "Authorization repeats a component");
            if (!(*dst = strndup(eq + 1, len - klen - 1)))
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        }
        p += end ? (size_t)(end - p) + 1 : strlen(p);
    }
    if (!*cred || !*signed_headers || !*sig)
        return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE,
                            "Authorization header requires Credential, SignedHeaders and Signature");
    return 0;
}

int
api_sigv4_scope_service(const api_request *req, char ret_service[64])
{
    vm_error ignore = { 0 };
    _cleanup_free_ char *auth = header_value(req, "authorization");
    _cleanup_free_ char *cred = NULL, *signed_headers = NULL, *sig = NULL;
    if (!auth || parse_authorization(auth, &cred, &signed_headers, &sig, &ignore) < 0 || !cred)
        return -1;
    char akid[API_KEY_MAX], day[16], creg[64];
    if (strlen(cred) >= 256 || sscanf(cred, "%127[^/]/%15[^/]/%63[^/]/%63[^/]/", akid, day, creg, ret_service) != 4)
        return -1;
    return 0;
}

int
api_sigv4_verify(const api_request *req, const char *region, const char *service, time_t now,
                 api_secret_fn lookup, void *opaque, char ret_access_key[API_KEY_MAX], vm_error *err)
{
    _cleanup_free_ char *auth = header_value(req, "authorization");
    if (!auth)
        return vm_error_set(err, VM_ERR_AUTH_FAILURE, "The request is not signed: it has no Authorization header");
    _cleanup_free_ char *cred = NULL, *signed_headers = NULL, *sig = NULL;
    if (parse_authorization(auth, &cred, &signed_headers, &sig, err) < 0)
        return -1;

    char akid[API_KEY_MAX], day[16], creg[64], csvc[64], term[32];
    if (strlen(cred) >= 256 ||
        sscanf(cred, "%127[^/]/%15[^/]/%63[^/]/%63[^/]/%31s", akid, day, creg, csvc, term) != 5 ||
        strcmp(term, "aws4_request") != 0)
        return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE,
                            "Credential must be ACCESS_KEY/DATE/REGION/SERVICE/aws4_request");
    _cleanup_free_ char *secret = lookup(opaque, akid);
    if (!secret)
        return vm_error_set(err, VM_ERR_AUTH_FAILURE, "AWS was not able to validate the provided access credentials");

    _cleanup_free_ char *amz_date = header_value(req, "x-amz-date");
    struct tm tm = { 0 };
    const char *rest = amz_date ? strptime(amz_date, "%Y%m%dT%H%M%SZ", &tm) : NULL;
    if (!rest || *rest)
        return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE, "X-Amz-Date must be present, as YYYYMMDDTHHMMSSZ");
    if (strncmp(amz_date, day, 8) != 0 || strlen(day) != 8)
        return vm_error_set(err, VM_ERR_SIGNATURE_MISMATCH, "the credential date '%s' is not the date of X-Amz-Date",
                            day);
    time_t t = timegm(&tm);
    if (t < now - MAX_SKEW_SEC || t > now + MAX_SKEW_SEC)
        return vm_error_set(err, VM_ERR_REQUEST_EXPIRED,
                            "Request has expired: X-Amz-Date %s is more than 15 minutes from the server time",
                            amz_date);
    if (strcmp(creg, region) != 0)
        return vm_error_set(err, VM_ERR_SIGNATURE_MISMATCH, "Credential should be scoped to a valid region, not '%s'",
                            creg);
    if (strcmp(csvc, service) != 0)
        return vm_error_set(err, VM_ERR_SIGNATURE_MISMATCH, "Credential should be scoped to the service '%s', not '%s'",
                            service, csvc);
    if (!listed(signed_headers, "host"))
        return vm_error_set(err, VM_ERR_INCOMPLETE_SIGNATURE, "SignedHeaders must include 'host'");

    char scope[256], expect[65];
    snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", day, creg, csvc);
    if (api_sigv4_sign(req, secret, amz_date, scope, signed_headers, expect, err) < 0)
        return -1;
    if (strlen(sig) != 64 || CRYPTO_memcmp(sig, expect, 64) != 0)
        return vm_error_set(err, VM_ERR_SIGNATURE_MISMATCH,
                            "The request signature we calculated does not match the signature you provided");
    snprintf(ret_access_key, API_KEY_MAX, "%s", akid);
    return 0;
}
