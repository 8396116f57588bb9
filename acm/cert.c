/* Imported certificates: checked and read with libcrypto, kept in the store, written out for HAProxy. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "acm.h"

void
acm_cert_clear(acm_cert *c)
{
    free(c->sans);
    free(c->cert_pem);
    free(c->chain_pem);
    free(c->key_pem);
    memset(c, 0, sizeof(*c));
}

void
acm_arn(const vm_ctx *ctx, const char *id, char arn[ACM_ARN_MAX])
{
    snprintf(arn, ACM_ARN_MAX, "arn:aws:acm:%s:%s:certificate/%s", ctx->region, ctx->account_id, id);
}

int
acm_arn_id(const vm_ctx *ctx, const char *arn, char id[ACM_ID_LEN + 1], vm_error *err)
{
    if (!arn)
        return vm_error_set(err, VM_ERR_VALIDATION_EXC, "CertificateArn is required");
    char prefix[128];
    int n = snprintf(prefix, sizeof(prefix), "arn:aws:acm:%s:%s:certificate/", ctx->region, ctx->account_id);
    uuid_t u;
    if (strncmp(arn, "arn:aws:acm:", 12) != 0 || strlen(arn) != (size_t)n + ACM_ID_LEN || uuid_parse(arn + n, u) != 0)
        return vm_error_set(err, VM_ERR_INVALID_ARN, "The ARN '%s' is not a certificate's ARN", arn);
    if (strncmp(arn, prefix, (size_t)n) != 0)
        return vm_error_set(err, VM_ERR_RESOURCE_NOT_FOUND_EXC, "Could not find certificate %s.", arn);
    snprintf(id, ACM_ID_LEN + 1, "%s", arn + n);
    return 0;
}

/* --- reading a certificate ------------------------------------------------------------------------ */

static time_t
asn1_time(const ASN1_TIME *t)
{
    struct tm tm = { 0 };
    return t && ASN1_TIME_to_tm(t, &tm) == 1 ? timegm(&tm) : 0;
}

static void
key_algorithm(EVP_PKEY *k, char *buf, size_t len)
{
    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
        snprintf(buf, len, "RSA_%d", EVP_PKEY_get_bits(k));
        return;
    case EVP_PKEY_EC: {
        char group[64] = "";
        size_t glen = 0;
        EVP_PKEY_get_group_name(k, group, sizeof(group), &glen);
        snprintf(buf, len, "EC_%s", group);
        return;
    }
    default:
        snprintf(buf, len, "%s", OBJ_nid2sn(EVP_PKEY_get_base_id(k)));
    }
}

/* "sha256WithRSAEncryption" as ACM says it: SHA256WITHRSA */
static void
signature_algorithm(const X509 *x, char *buf, size_t len)
{
    int nid = X509_get_signature_nid(x), md = NID_undef, pk = NID_undef;
    if (OBJ_find_sigid_algs(nid, &md, &pk) == 1 && md != NID_undef)
        snprintf(buf, len, "%sWITH%s", OBJ_nid2sn(md), pk == NID_rsaEncryption ? "RSA" : pk == NID_X9_62_id_ecPublicKey ? "ECDSA" : OBJ_nid2sn(pk));
    else
        snprintf(buf, len, "%s", OBJ_nid2sn(nid));
    for (char *c = buf; *c; c++)
        *c = (char)toupper((unsigned char)*c);
}

static void
name_text(const X509_NAME *name, char *buf, size_t len)
{
    buf[0] = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    int n = BIO_read(b, buf, (int)len - 1);
    buf[n > 0 ? n : 0] = 0;
    BIO_free(b);
}

static char *
dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

int
acm_cert_parse(const char *cert, size_t cert_len, const char *key, size_t key_len, const char *chain,
               size_t chain_len, acm_cert *c, vm_error *err)
{
    int rc = -1;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    BIO *b = BIO_new_mem_buf(cert, (int)cert_len);
    if (!b || !(x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        vm_error_set(err, VM_ERR_VALIDATION_EXC, "The certificate is not a PEM-encoded X.509 certificate");
        goto out;
    }
    X509 *extra = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (extra) {
        X509_free(extra);
        vm_error_set(err, VM_ERR_VALIDATION_EXC, "The certificate field contains more than one certificate: give "
                                                 "the others as the certificate chain");
        goto out;
    }
    BIO_free(b);
    b = BIO_new_mem_buf(key, (int)key_len);
    char pass[1] = "";
    if (!b || !(k = PEM_read_bio_PrivateKey(b, NULL, NULL, pass))) {
        vm_error_set(err, VM_ERR_VALIDATION_EXC,
                     "The private key is not a PEM-encoded, unencrypted private key");
        goto out;
    }
    if (X509_check_private_key(x, k) != 1) {
        vm_error_set(err, VM_ERR_VALIDATION_EXC, "The private key does not match the certificate's public key");
        goto out;
    }
    if (chain_len) {
        BIO_free(b);
        b = BIO_new_mem_buf(chain, (int)chain_len);
        int count = 0;
        for (X509 *y; b && (y = PEM_read_bio_X509(b, NULL, NULL, NULL)); count++)
            X509_free(y);
        if (count == 0) {
            vm_error_set(err, VM_ERR_VALIDATION_EXC, "The certificate chain holds no PEM-encoded certificate");
            goto out;
        }
    }
    ERR_clear_error();

    /* the names: the subject's common name, else the first DNS name of the alternatives */
    name_text(X509_get_subject_name(x), c->subject, sizeof(c->subject));
    name_text(X509_get_issuer_name(x), c->issuer, sizeof(c->issuer));
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, c->domain, sizeof(c->domain));
    char *sans = NULL;
    size_t slen = 0;
    FILE *f = open_memstream(&sans, &slen);
    if (!f) {
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        goto out;
    }
    GENERAL_NAMES *alt = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(alt, i);
        if (g->type != GEN_DNS)
            continue;
        const char *dns = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
        fprintf(f, "%s%s", slen || ftell(f) ? "\n" : "", dns);
        if (!c->domain[0])
            snprintf(c->domain, sizeof(c->domain), "%s", dns);
    }
    GENERAL_NAMES_free(alt);
    fclose(f);
    c->sans = sans;
    if (!c->domain[0]) {
        vm_error_set(err, VM_ERR_VALIDATION_EXC, "The certificate names no domain (no common name, no DNS name)");
        goto out;
    }
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    size_t o = 0;
    for (int i = 0; i < serial->length && o + 4 < sizeof(c->serial); i++)
        o += (size_t)snprintf(c->serial + o, sizeof(c->serial) - o, "%s%02x", i ? ":" : "", serial->data[i]);
    key_algorithm(k, c->key_algorithm, sizeof(c->key_algorithm));
    signature_algorithm(x, c->signature_algorithm, sizeof(c->signature_algorithm));
    c->not_before = asn1_time(X509_get0_notBefore(x));
    c->not_after = asn1_time(X509_get0_notAfter(x));
    c->cert_pem = dup_n(cert, cert_len);
    c->key_pem = dup_n(key, key_len);
    c->chain_pem = dup_n(chain ? chain : "", chain_len);
    if (!c->cert_pem || !c->key_pem || !c->chain_pem) {
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(k);
    ERR_clear_error();
    return rc;
}

/* --- the store ------------------------------------------------------------------------------------ */

#define CERT_COLUMNS                                                                                                  \
    "id, domain, sans, subject, issuer, serial, key_algorithm, signature_algorithm, not_before, not_after, "       \
    "imported_at, created_at, cert_pem, chain_pem, key_pem"

static int
from_row(sqlite3_stmt *st, acm_cert *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", vm_db_text(st, 0));
    snprintf(c->domain, sizeof(c->domain), "%s", vm_db_text(st, 1));
    c->sans = strdup(vm_db_text(st, 2));
    snprintf(c->subject, sizeof(c->subject), "%s", vm_db_text(st, 3));
    snprintf(c->issuer, sizeof(c->issuer), "%s", vm_db_text(st, 4));
    snprintf(c->serial, sizeof(c->serial), "%s", vm_db_text(st, 5));
    snprintf(c->key_algorithm, sizeof(c->key_algorithm), "%s", vm_db_text(st, 6));
    snprintf(c->signature_algorithm, sizeof(c->signature_algorithm), "%s", vm_db_text(st, 7));
    c->not_before = sqlite3_column_int64(st, 8);
    c->not_after = sqlite3_column_int64(st, 9);
    c->imported_at = sqlite3_column_int64(st, 10);
    c->created_at = sqlite3_column_int64(st, 11);
    c->cert_pem = strdup(vm_db_text(st, 12));
    c->chain_pem = strdup(vm_db_text(st, 13));
    c->key_pem = strdup(vm_db_text(st, 14));
    return c->sans && c->cert_pem && c->chain_pem && c->key_pem ? 0 : -1;
}

int
acm_cert_put(vm_ctx *ctx, const acm_cert *c, bool replace, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      replace ? "UPDATE acm_certificates SET domain = ?2, sans = ?3, subject = ?4, issuer = ?5, serial = "
                                "?6, key_algorithm = ?7, signature_algorithm = ?8, not_before = ?9, not_after = ?10, "
                                "imported_at = ?11, cert_pem = ?13, chain_pem = ?14, key_pem = ?15 WHERE id = ?1"
                              : "INSERT INTO acm_certificates (" CERT_COLUMNS
                                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                      &st, err) < 0)
        return -1;
    /* an update keeps created_at: ?12 is bound and unused */
    if (vm_db_bind(st, err, "ttttttttiiiittt", c->id, c->domain, c->sans, c->subject, c->issuer, c->serial,
                   c->key_algorithm, c->signature_algorithm, (long long)c->not_before, (long long)c->not_after,
                   (long long)c->imported_at, (long long)c->created_at, c->cert_pem, c->chain_pem, c->key_pem) < 0)
        return -1;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "recording the certificate", err);
}

int
acm_cert_get(vm_ctx *ctx, const char *id, acm_cert *c, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " CERT_COLUMNS " FROM acm_certificates WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW) {
        char arn[ACM_ARN_MAX];
        acm_arn(ctx, id, arn);
        return vm_error_set(err, VM_ERR_RESOURCE_NOT_FOUND_EXC, "Could not find certificate %s.", arn);
    }
    if (from_row(st, c) < 0) {
        acm_cert_clear(c);
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    }
    return 0;
}

void
acm_certs_free(acm_cert *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        acm_cert_clear(&v[i]);
    free(v);
}

int
acm_certs(vm_ctx *ctx, acm_cert **ret, size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_prepare(ctx->db, "SELECT " CERT_COLUMNS " FROM acm_certificates ORDER BY created_at, rowid", &st, err) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        acm_cert *v = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        if (from_row(st, &v[*n]) < 0) {
            acm_cert_clear(&v[*n]);
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        }
        (*n)++;
    }
    return 0;
}

int
acm_cert_delete(vm_ctx *ctx, const char *id, vm_error *err)
{
    acm_cert c;
    if (acm_cert_get(ctx, id, &c, err) < 0)
        return -1;
    acm_cert_clear(&c);
    /* in one statement with the check: a listener that takes it meanwhile keeps it */
    int n = vm_db_run(ctx->db, err,
                      "DELETE FROM acm_certificates WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM elb_listeners WHERE "
                      "certificate_id = ?1) AND NOT EXISTS (SELECT 1 FROM elb_listener_certs WHERE cert_id = ?1)",
                      "t", id);
    if (n < 0)
        return -1;
    if (n == 0) {
        char arn[ACM_ARN_MAX];
        acm_arn(ctx, id, arn);
        return vm_error_set(err, VM_ERR_ACM_IN_USE, "Certificate %s in account %s is in use.", arn, ctx->account_id);
    }
    return 0;
}

/* Whether the file at path holds exactly text */
static bool
same_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool same = true;
    char buf[4096];
    size_t off = 0, n;
    while (same && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
        same = off + n <= len && memcmp(buf, text + off, n) == 0;
        off += n;
    }
    fclose(f);
    return same && off == len;
}

int
acm_cert_write_pem(vm_ctx *ctx, const char *id, const char *path, time_t *ret_imported, vm_error *err)
{
    acm_cert c;
    if (acm_cert_get(ctx, id, &c, err) < 0)
        return -1;
    if (ret_imported)
        *ret_imported = c.imported_at;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        acm_cert_clear(&c);
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    }
    const char *parts[] = { c.cert_pem, c.chain_pem, c.key_pem };
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]);
        if (!n)
            continue;
        fputs(parts[i], m);
        if (parts[i][n - 1] != '\n')
            fputc('\n', m);
    }
    fclose(m);
    acm_cert_clear(&c);
    _cleanup_free_ char *owned = text;
    if (same_file(path, text, len)) /* rendered every round: written only when it changed */
        return 0;
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot write %s", tmp);
    bool ok = write(fd, text, len) == (ssize_t)len;
    if (close(fd) != 0 || !ok || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return vm_error_set_errno(err, e, VM_ERR_INTERNAL, "cannot write %s", path);
    }
    return 0;
}
