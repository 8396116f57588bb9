#include "keypair.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/db.h"
#include "../core/filter.h"
#include "../core/ids.h"
#include "../core/tags.h"

VM_DEFINE_CLEANUP(EVP_PKEY *, EVP_PKEY_free)
VM_DEFINE_CLEANUP(BIGNUM *, BN_free)

/* --- a growable byte buffer for SSH wire encodings ------------------------------------------------ */
typedef struct sbuf {
    unsigned char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void
sb_put(sbuf *b, const void *data, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len > b->cap) {
        size_t cap = 2 * (b->n + len) + 64;
        unsigned char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void
sb_u32(sbuf *b, uint32_t v)
{
    unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };
    sb_put(b, x, 4);
}

static void
sb_str(sbuf *b, const void *data, size_t len)
{
    sb_u32(b, (uint32_t)len);
    sb_put(b, data, len);
}

/* an SSH mpint: big-endian, a leading zero when the top bit is set */
static void
sb_mpint(sbuf *b, const BIGNUM *bn)
{
    int len = BN_num_bytes(bn);
    unsigned char *tmp = calloc(1, (size_t)len + 1);
    if (!tmp) {
        b->oom = true;
        return;
    }
    BN_bn2bin(bn, tmp + 1);
    bool pad = len > 0 && (tmp[1] & 0x80);
    sb_str(b, pad ? tmp : tmp + 1, (size_t)len + pad);
    free(tmp);
}

static char *
base64(const unsigned char *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

static void
hex_colons(const unsigned char *md, unsigned int n, char *out)
{
    for (unsigned int i = 0; i < n; i++)
        sprintf(out + 3 * i, "%02x%s", md[i], i + 1 < n ? ":" : "");
}

/* The OpenSSH public key blob of pkey. */
static int
public_blob(EVP_PKEY *pkey, bool ed, sbuf *b, vm_error *err)
{
    if (ed) {
        unsigned char pub[32];
        size_t len = sizeof(pub);
        if (!EVP_PKEY_get_raw_public_key(pkey, pub, &len))
            return vm_error_set(err, VM_ERR_INTERNAL, "cannot read the ed25519 public key");
        sb_str(b, "ssh-ed25519", 11);
        sb_str(b, pub, len);
    } else {
        _cleanup_(BN_freep) BIGNUM *n = NULL, *e = NULL;
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
            !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e))
            return vm_error_set(err, VM_ERR_INTERNAL, "cannot read the RSA public key");
        sb_str(b, "ssh-rsa", 7);
        sb_mpint(b, e);
        sb_mpint(b, n);
    }
    return b->oom ? vm_error_set(err, VM_ERR_INTERNAL, "out of memory") : 0;
}

static char *
openssh_line(const char *type, const sbuf *blob)
{
    _cleanup_free_ char *b64 = base64(blob->p, blob->n);
    char *line = NULL;
    if (b64 && asprintf(&line, "%s %s", type, b64) < 0)
        line = NULL;
    return line;
}

/* SHA-256 of the blob, base64 as EC2 shows it */
static char *
ed25519_fingerprint(const sbuf *blob)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    EVP_Digest(blob->p, blob->n, md, &mdlen, EVP_sha256(), NULL);
    return base64(md, mdlen);
}

/* ED25519 private key in OpenSSH's own format (unencrypted, as EC2 hands it out). */
static char *
openssh_private(EVP_PKEY *pkey, const sbuf *pubblob, vm_error *err)
{
    unsigned char seed[32], pub[32];
    size_t sl = sizeof(seed), pl = sizeof(pub);
    uint32_t check;
    if (!EVP_PKEY_get_raw_private_key(pkey, seed, &sl) || !EVP_PKEY_get_raw_public_key(pkey, pub, &pl) ||
        RAND_bytes((unsigned char *)&check, sizeof(check)) != 1) {
        vm_error_set(err, VM_ERR_INTERNAL, "cannot read the ed25519 key");
        return NULL;
    }
    sbuf priv = { 0 }, all = { 0 };
    sb_u32(&priv, check);
    sb_u32(&priv, check);
    sb_str(&priv, "ssh-ed25519", 11);
    sb_str(&priv, pub, 32);
    unsigned char both[64];
    memcpy(both, seed, 32);
    memcpy(both + 32, pub, 32);
    sb_str(&priv, both, 64);
    sb_str(&priv, "vmmgr", 5);
    for (unsigned char pad = 1; priv.n % 8; pad++)
        sb_put(&priv, &pad, 1);
    OPENSSL_cleanse(both, sizeof(both));
    OPENSSL_cleanse(seed, sizeof(seed));

    sb_put(&all, "openssh-key-v1", 15); /* with its NUL */
    sb_str(&all, "none", 4);
    sb_str(&all, "none", 4);
    sb_str(&all, "", 0);
    sb_u32(&all, 1);
    sb_str(&all, pubblob->p, pubblob->n);
    sb_str(&all, priv.p, priv.n);
    char *out = NULL;
    _cleanup_free_ char *b64 = all.oom || priv.oom ? NULL : base64(all.p, all.n);
    if (priv.p)
        OPENSSL_cleanse(priv.p, priv.n);
    free(priv.p);
    if (all.p)
        OPENSSL_cleanse(all.p, all.n);
    free(all.p);
    size_t blen = b64 ? strlen(b64) : 0;
    if (b64 && (out = malloc(blen + blen / 70 + 128))) {
        char *w = out + sprintf(out, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
        for (size_t i = 0; i < blen; i += 70)
            w += sprintf(w, "%.70s\n", b64 + i);
        sprintf(w, "-----END OPENSSH PRIVATE KEY-----\n");
        OPENSSL_cleanse(b64, blen);
    }
    if (!out)
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return out;
}

static char *
rsa_private_pem(EVP_PKEY *pkey, vm_error *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (bio && PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL)) {
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        out = strndup(data, (size_t)len);
    }
    BIO_free_all(bio);
    if (!out)
        vm_error_set(err, VM_ERR_INTERNAL, "cannot write the RSA private key");
    return out;
}

/* SHA-1 of the PKCS#8 DER of a created RSA key */
static int
rsa_created_fingerprint(EVP_PKEY *pkey, char out[64], vm_error *err)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
    unsigned char *der = NULL;
    int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (len <= 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot encode the RSA key");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha1(), NULL);
    OPENSSL_cleanse(der, (size_t)len);
    OPENSSL_free(der);
    hex_colons(md, mdlen, out);
    return 0;
}

static int
check_name(const char *name, vm_error *err)
{
    if (!name || !*name)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter KeyName");
    if (strlen(name) > 255)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "KeyName is longer than 255 characters");
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "KeyName must be printable ASCII");
    return 0;
}

static int
kp_store(vm_ctx *ctx, const vm_tag *tags, size_t ntags, const char *name, const char *type, const char *fp,
         const char *pub, char ret_id[VM_ID_MAX], vm_error *err)
{
    vm_id_new("key", ret_id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO key_pairs (id, name, type, fingerprint, public_key, created_at) "
                   "VALUES (?, ?, ?, ?, ?, strftime('%s','now'))",
                   "ttttt", ret_id, name, type, fp, pub) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT) {
        vm_db_rollback(ctx->db);
        return vm_error_set(err, VM_ERR_KEYPAIR_DUPLICATE, "The keypair '%s' already exists.", name);
    }
    if (rc != SQLITE_DONE) {
        vm_db_error(ctx->db, "saving key pair", err);
        vm_db_rollback(ctx->db);
        return -1;
    }
    if (vm_tags_put(ctx, ret_id, tags, ntags, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

static bool
name_taken(vm_ctx *ctx, const char *name)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, &(vm_error){ 0 }, "SELECT 1 FROM key_pairs WHERE name = ?", "t", name) < 0)
        return false;
    return sqlite3_step(st) == SQLITE_ROW;
}

int
kp_create(vm_ctx *ctx, const char *name, const char *type, const char *format, const vm_tag *tags, size_t ntags,
          vm_node *resp, vm_error *err)
{
    bool dry = ctx->dry_run;
    if (check_name(name, err) < 0)
        return -1;
    if (!type)
        type = "rsa";
    if (strcmp(type, "rsa") != 0 && strcmp(type, "ed25519") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "KeyType must be rsa or ed25519, not '%s'", type);
    if (format && strcmp(format, "pem") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "KeyFormat '%s' is not supported (use pem)", format);
    if (name_taken(ctx, name))
        return vm_error_set(err, VM_ERR_KEYPAIR_DUPLICATE, "The keypair '%s' already exists.", name);
    if (dry)
        return vm_error_dry_run(err);

    bool ed = strcmp(type, "ed25519") == 0;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = ed ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                                                   : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (!pkey)
        return vm_error_set(err, VM_ERR_INTERNAL, "key generation failed");
    sbuf blob = { 0 };
    char fp[128];
    _cleanup_free_ char *priv = NULL, *line = NULL, *edfp = NULL;
    int rc = public_blob(pkey, ed, &blob, err);
    if (rc == 0 && !(line = openssh_line(ed ? "ssh-ed25519" : "ssh-rsa", &blob)))
        rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (rc == 0 && ed) {
        if (!(edfp = ed25519_fingerprint(&blob)) || !(priv = openssh_private(pkey, &blob, err)))
            rc = -1;
        else
            snprintf(fp, sizeof(fp), "%s", edfp);
    } else if (rc == 0) {
        rc = rsa_created_fingerprint(pkey, fp, err);
        if (rc == 0 && !(priv = rsa_private_pem(pkey, err)))
            rc = -1;
    }
    free(blob.p);
    char id[VM_ID_MAX];
    if (rc < 0 || kp_store(ctx, tags, ntags, name, type, fp, line, id, err) < 0)
        return -1;
    vm_node_str(resp, "keyName", NULL, name);
    vm_node_str(resp, "keyFingerprint", NULL, fp);
    vm_node_str(resp, "keyMaterial", NULL, priv);
    vm_node_str(resp, "keyPairId", NULL, id);
    OPENSSL_cleanse(priv, strlen(priv));
    return vm_tags_render(ctx, resp, id, err);
}

static int
rd_u32(const unsigned char **p, size_t *left, uint32_t *v)
{
    if (*left < 4)
        return -1;
    *v = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
    *p += 4;
    *left -= 4;
    return 0;
}

static int
rd_str(const unsigned char **p, size_t *left, const unsigned char **s, size_t *len)
{
    uint32_t n;
    if (rd_u32(p, left, &n) < 0 || n > *left)
        return -1;
    *s = *p;
    *len = n;
    *p += n;
    *left -= n;
    return 0;
}

int
kp_parse_openssh(const char *text, char **ret_type, char **ret_line, char **ret_fingerprint, vm_error *err)
{
    char type[32], b64[16384];
    if (strlen(text) > 16000 || sscanf(text, " %31s %16383s", type, b64) != 2)
        return vm_error_set(err, VM_ERR_KEY_FORMAT, "Key is not in valid OpenSSH public key format");
    bool ed = strcmp(type, "ssh-ed25519") == 0;
    if (!ed && strcmp(type, "ssh-rsa") != 0)
        return vm_error_set(err, VM_ERR_KEY_FORMAT, "Key type '%s' is not supported (ssh-rsa or ssh-ed25519)", type);
    size_t b64len = strlen(b64);
    _cleanup_free_ unsigned char *blob = malloc(b64len);
    int n = blob ? EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)b64len) : -1;
    if (n <= 0)
        return vm_error_set(err, VM_ERR_KEY_FORMAT, "Key is not in valid OpenSSH public key format");
    /* EVP_DecodeBlock counts padding as zero bytes */
    if (b64len >= 1 && b64[b64len - 1] == '=')
        n--;
    if (b64len >= 2 && b64[b64len - 2] == '=')
        n--;
    const unsigned char *pp = blob, *s;
    size_t left = (size_t)n, len;
    if (rd_str(&pp, &left, &s, &len) < 0 || len != strlen(type) || memcmp(s, type, len) != 0)
        return vm_error_set(err, VM_ERR_KEY_FORMAT, "Key is not in valid OpenSSH public key format");
    sbuf whole = { .p = NULL };
    char fp[128];
    if (ed) {
        if (rd_str(&pp, &left, &s, &len) < 0 || len != 32 || left != 0)
            return vm_error_set(err, VM_ERR_KEY_FORMAT, "the ed25519 key is malformed");
        sbuf b = { .p = blob, .n = (size_t)n };
        _cleanup_free_ char *f = ed25519_fingerprint(&b);
        snprintf(fp, sizeof(fp), "%s", f ? f : "");
    } else {
        const unsigned char *es, *ns;
        size_t el, nl;
        if (rd_str(&pp, &left, &es, &el) < 0 || rd_str(&pp, &left, &ns, &nl) < 0 || left != 0 || el == 0 || nl < 128)
            return vm_error_set(err, VM_ERR_KEY_FORMAT, "the RSA key is malformed or shorter than 1024 bits");
        _cleanup_(BN_freep) BIGNUM *e = BN_bin2bn(es, (int)el, NULL), *nn = BN_bin2bn(ns, (int)nl, NULL);
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        EVP_PKEY *pkey = NULL;
        if (bld && e && nn && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, nn) &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) && (params = OSSL_PARAM_BLD_to_param(bld)) && pctx &&
            EVP_PKEY_fromdata_init(pctx) > 0)
            EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        EVP_PKEY_CTX_free(pctx);
        unsigned char *der = NULL;
        int dl = pkey ? i2d_PUBKEY(pkey, &der) : -1;
        EVP_PKEY_free(pkey);
        if (dl <= 0)
            return vm_error_set(err, VM_ERR_KEY_FORMAT, "the RSA key is malformed");
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen;
        EVP_Digest(der, (size_t)dl, md, &mdlen, EVP_md5(), NULL);
        OPENSSL_free(der);
        hex_colons(md, mdlen, fp);
    }
    (void)whole;
    char *line = NULL;
    if (asprintf(&line, "%s %s", type, b64) < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    *ret_type = strdup(ed ? "ed25519" : "rsa");
    *ret_line = line;
    *ret_fingerprint = strdup(fp);
    return 0;
}

int
kp_import(vm_ctx *ctx, const char *name, const char *material, const vm_tag *tags, size_t ntags, vm_node *resp,
          vm_error *err)
{
    bool dry = ctx->dry_run;
    if (check_name(name, err) < 0)
        return -1;
    if (!material || !*material)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter PublicKeyMaterial");
    /* a Blob in the model: base64 on the wire */
    size_t ml = strlen(material);
    _cleanup_free_ char *text = malloc(ml + 1);
    int n = text ? EVP_DecodeBlock((unsigned char *)text, (const unsigned char *)material, (int)ml) : -1;
    if (n <= 0)
        return vm_error_set(err, VM_ERR_KEY_FORMAT, "PublicKeyMaterial is not base64");
    text[n] = '\0';
    _cleanup_free_ char *type = NULL, *line = NULL, *fp = NULL;
    if (kp_parse_openssh(text, &type, &line, &fp, err) < 0)
        return -1;
    if (name_taken(ctx, name))
        return vm_error_set(err, VM_ERR_KEYPAIR_DUPLICATE, "The keypair '%s' already exists.", name);
    if (dry)
        return vm_error_dry_run(err);
    char id[VM_ID_MAX];
    if (kp_store(ctx, tags, ntags, name, type, fp, line, id, err) < 0)
        return -1;
    vm_node_str(resp, "keyFingerprint", NULL, fp);
    vm_node_str(resp, "keyName", NULL, name);
    vm_node_str(resp, "keyPairId", NULL, id);
    return vm_tags_render(ctx, resp, id, err);
}

int
kp_describe(vm_ctx *ctx, const char *const *wnames, size_t nn, const char *const *wids, size_t ni, const vm_filters *fs,
            bool with_pub, vm_node *resp, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id, name, type, fingerprint, public_key, created_at FROM key_pairs ORDER BY name",
                      &st, err) < 0)
        return -1;
    /* every name or id asked for must exist */
    for (size_t i = 0; i < nn + ni; i++) {
        const char *want = i < nn ? wnames[i] : wids[i - nn];
        bool found = false;
        sqlite3_reset(st);
        while (!found && sqlite3_step(st) == SQLITE_ROW)
            found = strcmp(vm_db_text(st, i < nn ? 1 : 0), want) == 0;
        if (!found)
            return vm_error_set(err, VM_ERR_KEYPAIR_NOT_FOUND, "The key pair '%s' does not exist", want);
    }
    sqlite3_reset(st);
    vm_node *list = vm_node_list(resp, "keySet", "KeyPairs");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = vm_db_text(st, 0), *name = vm_db_text(st, 1), *type = vm_db_text(st, 2),
                   *fp = vm_db_text(st, 3);
        if ((nn || ni) && !vm_match_any(name, wnames) && !vm_match_any(id, wids))
            continue;
        bool keep = true;
        for (size_t f = 0; keep && f < fs->n; f++) {
            const char *fn = fs->v[f].name;
            const char *subject = strcmp(fn, "key-name") == 0      ? name
                                  : strcmp(fn, "key-pair-id") == 0 ? id
                                  : strcmp(fn, "fingerprint") == 0 ? fp
                                  : strcmp(fn, "key-type") == 0    ? type
                                                                   : NULL;
            int m = subject ? vm_match_any(subject, fs->v[f].values) : vm_tags_match(ctx, id, fn, fs->v[f].values, err);
            if (m < 0)
                return -1;
            keep = m;
        }
        if (!keep)
            continue;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "keyPairId", NULL, id);
        vm_node_str(it, "keyFingerprint", NULL, fp);
        vm_node_str(it, "keyName", NULL, name);
        vm_node_str(it, "keyType", NULL, type);
        if (vm_tags_render(ctx, it, id, err) < 0)
            return -1;
        if (with_pub)
            vm_node_str(it, "publicKey", NULL, vm_db_text(st, 4));
        vm_node_time(it, "createTime", NULL, sqlite3_column_int64(st, 5));
    }
    return 0;
}

int
kp_delete(vm_ctx *ctx, const char *name, const char *id, vm_node *resp, vm_error *err)
{
    bool dry = ctx->dry_run;
    if (!name && !id)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter KeyName or KeyPairId");
    if (dry)
        return vm_error_dry_run(err);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id FROM key_pairs WHERE name = ?1 OR id = ?2", "tt", name, id) < 0)
        return -1;
    /* deleting a key pair that does not exist succeeds, as in EC2 */
    if (sqlite3_step(st) == SQLITE_ROW) {
        char kid[VM_ID_MAX];
        snprintf(kid, sizeof(kid), "%s", vm_db_text(st, 0));
        _cleanup_stmt_ sqlite3_stmt *del = NULL;
        if (vm_db_begin(ctx->db, err) < 0)
            return -1;
        if (vm_db_stmt(ctx->db, &del, err, "DELETE FROM key_pairs WHERE id = ?", "t", kid) < 0 ||
            sqlite3_step(del) != SQLITE_DONE ||
            vm_tags_drop(ctx, kid, err) < 0) {
            vm_db_rollback(ctx->db);
            return vm_error_is_set(err) ? -1 : vm_db_error(ctx->db, "deleting key pair", err);
        }
        if (vm_db_commit(ctx->db, err) < 0)
            return -1;
    }
    vm_node_bool(resp, "return", NULL, true);
    return 0;
}

char *
kp_public_key(vm_ctx *ctx, const char *name, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT public_key FROM key_pairs WHERE name = ?", "t", name) < 0)
        return NULL;
    if (sqlite3_step(st) != SQLITE_ROW) {
        vm_error_set(err, VM_ERR_KEYPAIR_NOT_FOUND, "The key pair '%s' does not exist", name);
        return NULL;
    }
    return strdup(vm_db_text(st, 0));
}
