/* AWS Certificate Manager at the same endpoint (AWS JSON 1.1, target CertificateManager), for what a
 * load balancer's HTTPS listener serves: imported certificates only (this cloud issues none).
 *   ImportCertificate (new, or again at its CertificateArn), DescribeCertificate, GetCertificate,
 *   ListCertificates, DeleteCertificate (refused while a listener serves it),
 *   AddTagsToCertificate, RemoveTagsFromCertificate, ListTagsForCertificate */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "../../../acm/acm.h"
#include "../../../elb/elb.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../service.h"

/* A Blob member (base64 on the wire) as its bytes, NUL-terminated (owned); NULL with err. */
static char *
blob(const vm_params *p, const char *key, bool required, size_t max, size_t *ret_len, vm_error *err)
{
    const char *b64 = vm_params_get(p, key);
    *ret_len = 0;
    if (!b64 || !*b64) {
        if (required)
            vm_error_set(err, VM_ERR_VALIDATION_EXC, "%s is required", key);
        return NULL;
    }
    size_t n = strlen(b64);
    char *out = malloc(n + 1);
    int len = out ? EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)b64, (int)n) : -1;
    if (len < 0) {
        free(out);
        vm_error_set(err, VM_ERR_VALIDATION_EXC, "%s is not base64", key);
        return NULL;
    }
    for (size_t i = n; i > 0 && b64[i - 1] == '=' && len > 0; i--)
        len--; /* EVP_DecodeBlock counts the padding as bytes */
    out[len] = 0;
    if ((size_t)len > max) {
        free(out);
        vm_error_set(err, VM_ERR_VALIDATION_EXC, "%s is longer than %zu bytes", key, max);
        return NULL;
    }
    *ret_len = (size_t)len;
    return out;
}

/* Tags.member.N.Key/Value (with the keys only when keys_only) into the certificate's tags, or out */
static int
put_tags(vm_ctx *ctx, const char *id, const vm_params *p, bool remove, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "Tags.member", &idx, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *k = vm_params_getf(p, "Tags.member.%d.Key", idx[i]);
        const char *v = vm_params_getf(p, "Tags.member.%d.Value", idx[i]);
        if (!k || !*k || strlen(k) > 128 || (v && strlen(v) > 256))
            return vm_error_set(err, VM_ERR_VALIDATION_EXC, "A tag needs a Key of 1-128 characters and a Value of at "
                                                            "most 256");
        if (!remove && strncmp(k, "aws:", 4) == 0)
            return vm_error_set(err, VM_ERR_VALIDATION_EXC, "Tag keys starting with 'aws:' are reserved");
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_prepare(ctx->db,
                          remove ? "DELETE FROM acm_tags WHERE cert_id = ?1 AND key = ?2 AND (?3 IS NULL OR value = ?3)"
                                 : "INSERT INTO acm_tags (cert_id, key, value) VALUES (?1, ?2, ?3) "
                                   "ON CONFLICT (cert_id, key) DO UPDATE SET value = excluded.value",
                          &st, err) < 0)
            return -1;
        if (vm_db_bind(st, err, "ttt", id, k, v || !remove ? (v ? v : "") : NULL) < 0 ||
            sqlite3_step(st) != SQLITE_DONE)
            return vm_db_error(ctx->db, "recording a certificate's tags", err);
    }
    return 0;
}

static int
import_certificate(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    size_t cl, kl, chl;
    _cleanup_free_ char *cert = blob(p, "Certificate", true, 32768, &cl, err);
    if (!cert)
        return -1;
    _cleanup_free_ char *key = blob(p, "PrivateKey", true, 5120, &kl, err);
    if (!key)
        return -1;
    _cleanup_free_ char *chain = blob(p, "CertificateChain", false, 2097152, &chl, err);
    if (!chain && vm_error_is_set(err))
        return -1;
    const char *again = vm_params_get(p, "CertificateArn");
    acm_cert c = { 0 }, old = { 0 };
    if (again) {
        if (acm_arn_id(ctx, again, c.id, err) < 0 || acm_cert_get(ctx, c.id, &old, err) < 0)
            return -1;
        if (vm_params_get(p, "Tags.member.1.Key")) {
            acm_cert_clear(&old);
            return vm_error_set(err, VM_ERR_VALIDATION_EXC, "Tags cannot be given when a certificate is imported again");
        }
    }
    char id[ACM_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", c.id);
    if (acm_cert_parse(cert, cl, key, kl, chain, chl, &c, err) < 0) {
        acm_cert_clear(&c);
        acm_cert_clear(&old);
        return -1;
    }
    if (again) {
        snprintf(c.id, sizeof(c.id), "%s", id);
        c.created_at = old.created_at;
        acm_cert_clear(&old);
    } else {
        uuid_t u;
        uuid_generate_random(u);
        uuid_unparse_lower(u, c.id);
        c.created_at = time(NULL);
    }
    c.imported_at = time(NULL);
    int rc = vm_db_begin(ctx->db, err);
    if (rc == 0 && (acm_cert_put(ctx, &c, again != NULL, err) < 0 || put_tags(ctx, c.id, p, false, err) < 0)) {
        vm_db_rollback(ctx->db);
        rc = -1;
    } else if (rc == 0) {
        rc = vm_db_commit(ctx->db, err);
    }
    if (rc == 0) {
        char arn[ACM_ARN_MAX];
        acm_arn(ctx, c.id, arn);
        vm_node_str(result, "CertificateArn", NULL, arn);
    }
    acm_cert_clear(&c);
    return rc;
}

static void
render_sans(vm_node *parent, const char *name, const acm_cert *c)
{
    vm_node *l = vm_node_list(parent, name, NULL);
    for (const char *s = c->sans; s && *s;) {
        const char *end = strchr(s, '\n');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        char one[256];
        snprintf(one, sizeof(one), "%.*s", (int)n, s);
        vm_node_str(l, NULL, NULL, one);
        s += n + (end ? 1 : 0);
    }
}

static int
with_cert(vm_ctx *ctx, const vm_params *p, acm_cert *c, char arn[ACM_ARN_MAX], vm_error *err)
{
    char id[ACM_ID_LEN + 1];
    if (acm_arn_id(ctx, vm_params_get(p, "CertificateArn"), id, err) < 0 || acm_cert_get(ctx, id, c, err) < 0)
        return -1;
    acm_arn(ctx, c->id, arn);
    return 0;
}

static int
describe_certificate(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    acm_cert c;
    char arn[ACM_ARN_MAX];
    if (with_cert(ctx, p, &c, arn, err) < 0)
        return -1;
    vm_node *o = vm_node_struct(result, "Certificate", NULL);
    vm_node_str(o, "CertificateArn", NULL, arn);
    vm_node_str(o, "DomainName", NULL, c.domain);
    render_sans(o, "SubjectAlternativeNames", &c);
    vm_node_str(o, "Serial", NULL, c.serial);
    vm_node_str(o, "Subject", NULL, c.subject);
    vm_node_str(o, "Issuer", NULL, c.issuer);
    vm_node_time(o, "CreatedAt", NULL, c.created_at);
    vm_node_time(o, "ImportedAt", NULL, c.imported_at);
    time_t now = time(NULL);
    vm_node_str(o, "Status", NULL, now > c.not_after ? "EXPIRED" : "ISSUED");
    vm_node_time(o, "NotBefore", NULL, c.not_before);
    vm_node_time(o, "NotAfter", NULL, c.not_after);
    vm_node_str(o, "KeyAlgorithm", NULL, c.key_algorithm);
    vm_node_str(o, "SignatureAlgorithm", NULL, c.signature_algorithm);
    _cleanup_free_ char *users = elb_cert_users(ctx, c.id);
    vm_node *in_use = vm_node_list(o, "InUseBy", NULL);
    for (char *save = NULL, *u = users ? strtok_r(users, "\n", &save) : NULL; u; u = strtok_r(NULL, "\n", &save))
        vm_node_str(in_use, NULL, NULL, u);
    vm_node_str(o, "Type", NULL, "IMPORTED");
    vm_node_str(o, "RenewalEligibility", NULL, "INELIGIBLE");
    vm_node_struct(o, "Options", NULL);
    vm_node_list(o, "KeyUsages", NULL);
    vm_node_list(o, "ExtendedKeyUsages", NULL);
    acm_cert_clear(&c);
    return 0;
}

static int
get_certificate(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    acm_cert c;
    char arn[ACM_ARN_MAX];
    if (with_cert(ctx, p, &c, arn, err) < 0)
        return -1;
    vm_node_str(result, "Certificate", NULL, c.cert_pem);
    if (c.chain_pem[0])
        vm_node_str(result, "CertificateChain", NULL, c.chain_pem);
    acm_cert_clear(&c);
    return 0;
}

static int
list_certificates(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    long max, from = 0;
    if (vm_params_int(p, "MaxItems", 1000, 1, 1000, &max, err) < 0)
        return -1;
    const char *token = vm_params_get(p, "NextToken");
    if (token) {
        char *end;
        from = strtol(token, &end, 10);
        if (*end || end == token || from < 0)
            return vm_error_set(err, VM_ERR_VALIDATION_EXC, "The NextToken '%s' is not valid", token);
    }
    acm_cert *v = NULL;
    size_t n = 0;
    if (acm_certs(ctx, &v, &n, err) < 0) {
        acm_certs_free(v, n);
        return -1;
    }
    /* CertificateStatuses: ISSUED or EXPIRED are the states an imported certificate has */
    _cleanup_free_ int *idx = NULL;
    size_t ns = 0;
    if (vm_params_indexes(p, "CertificateStatuses.member", &idx, &ns, err) < 0) {
        acm_certs_free(v, n);
        return -1;
    }
    vm_node *l = vm_node_list(result, "CertificateSummaryList", NULL);
    time_t now = time(NULL);
    long shown = 0, seen = 0;
    for (size_t i = 0; i < n; i++) {
        const char *status = now > v[i].not_after ? "EXPIRED" : "ISSUED";
        bool wanted = ns == 0;
        for (size_t k = 0; k < ns && !wanted; k++) {
            const char *s = vm_params_getf(p, "CertificateStatuses.member.%d", idx[k]);
            wanted = s && strcmp(s, status) == 0;
        }
        if (!wanted || seen++ < from)
            continue;
        if (shown == max) {
            char next[32];
            snprintf(next, sizeof(next), "%ld", from + shown);
            vm_node_str(result, "NextToken", NULL, next);
            break;
        }
        char arn[ACM_ARN_MAX];
        acm_arn(ctx, v[i].id, arn);
        vm_node *it = vm_node_item(l);
        vm_node_str(it, "CertificateArn", NULL, arn);
        vm_node_str(it, "DomainName", NULL, v[i].domain);
        render_sans(it, "SubjectAlternativeNameSummaries", &v[i]);
        vm_node_str(it, "Status", NULL, status);
        vm_node_str(it, "Type", NULL, "IMPORTED");
        vm_node_str(it, "KeyAlgorithm", NULL, v[i].key_algorithm);
        _cleanup_free_ char *users = elb_cert_users(ctx, v[i].id);
        vm_node_bool(it, "InUse", NULL, users && users[0]);
        vm_node_time(it, "NotBefore", NULL, v[i].not_before);
        vm_node_time(it, "NotAfter", NULL, v[i].not_after);
        vm_node_time(it, "CreatedAt", NULL, v[i].created_at);
        vm_node_time(it, "ImportedAt", NULL, v[i].imported_at);
        shown++;
    }
    acm_certs_free(v, n);
    return 0;
}

static int
delete_certificate(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    char id[ACM_ID_LEN + 1];
    if (acm_arn_id(ctx, vm_params_get(p, "CertificateArn"), id, err) < 0)
        return -1;
    return acm_cert_delete(ctx, id, err);
}

static int
tags_change(vm_ctx *ctx, const vm_params *p, bool remove, vm_error *err)
{
    acm_cert c;
    char arn[ACM_ARN_MAX];
    if (with_cert(ctx, p, &c, arn, err) < 0)
        return -1;
    if (!vm_params_get(p, "Tags.member.1.Key")) {
        acm_cert_clear(&c);
        return vm_error_set(err, VM_ERR_VALIDATION_EXC, "Tags is required");
    }
    int rc = vm_db_begin(ctx->db, err);
    if (rc == 0 && put_tags(ctx, c.id, p, remove, err) < 0) {
        vm_db_rollback(ctx->db);
        rc = -1;
    } else if (rc == 0) {
        rc = vm_db_commit(ctx->db, err);
    }
    acm_cert_clear(&c);
    return rc;
}

static int
add_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    return tags_change(ctx, p, false, err);
}

static int
remove_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    return tags_change(ctx, p, true, err);
}

static int
list_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    acm_cert c;
    char arn[ACM_ARN_MAX];
    if (with_cert(ctx, p, &c, arn, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc = vm_db_stmt(ctx->db, &st, err, "SELECT key, value FROM acm_tags WHERE cert_id = ? ORDER BY key", "t", c.id);
    if (rc == 0) {
        vm_node *l = vm_node_list(result, "Tags", NULL);
        while (sqlite3_step(st) == SQLITE_ROW) {
            vm_node *it = vm_node_item(l);
            vm_node_str(it, "Key", NULL, vm_db_text(st, 0));
            vm_node_str(it, "Value", NULL, vm_db_text(st, 1));
        }
    }
    acm_cert_clear(&c);
    return rc;
}

static const svc_action acm_actions[] = {
    { "ImportCertificate", import_certificate },
    { "DescribeCertificate", describe_certificate },
    { "GetCertificate", get_certificate },
    { "ListCertificates", list_certificates },
    { "DeleteCertificate", delete_certificate },
    { "AddTagsToCertificate", add_tags },
    { "RemoveTagsFromCertificate", remove_tags },
    { "ListTagsForCertificate", list_tags },
    { NULL, NULL },
};

const svc_desc svc_acm = {
    .signing_name = "acm",
    .version = "2015-12-08",
    .xmlns = "",
    .protocol = SVC_PROTO_QUERY,
    .json_target = "CertificateManager",
    .json_namespace = "com.amazonaws.acm",
    .actions = acm_actions,
};
