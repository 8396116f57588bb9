/* What the metadata service answers: an instance's metadata as a tree of paths, from the store. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../net/net.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "imds.h"

typedef struct leaf {
    char *path, *value;
} leaf;

typedef struct tree {
    leaf *v;
    size_t n;
    bool oom;
} tree;

static void
put(tree *t, const char *value, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
put(tree *t, const char *value, const char *fmt, ...)
{
    leaf *v = realloc(t->v, (t->n + 1) * sizeof(*v));
    if (!v) {
        t->oom = true;
        return;
    }
    t->v = v;
    va_list ap;
    va_start(ap, fmt);
    char *path = NULL;
    int rc = vasprintf(&path, fmt, ap);
    va_end(ap);
    char *val = strdup(value ? value : "");
    if (rc < 0 || !val) {
        free(rc < 0 ? NULL : path);
        free(val);
        t->oom = true;
        return;
    }
    t->v[t->n++] = (leaf){ path, val };
}

static void
tree_free(tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].path);
        free(t->v[i].value);
    }
    free(t->v);
}

/* Autoscaling's target lifecycle state of a member's lifecycle (Pending:Wait → InService, …) */
static void
target_state(vm_ctx *ctx, const char *life, const char *group, char buf[32])
{
    if (strncmp(life, "Terminat", 8) == 0 || strncmp(life, "Detach", 6) == 0)
        snprintf(buf, 32, "Terminated");
    else if (strstr(life, "Standby"))
        snprintf(buf, 32, "Standby");
    else if (strncmp(life, "Warmed:", 7) == 0) {
        /* a warm instance heads for its pool's state */
        const char *s = life + 7;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        vm_error ignore = { 0 };
        if (strncmp(s, "Pending", 7) == 0 &&
            vm_db_stmt(ctx->db, &st, &ignore, "SELECT pool_state FROM asg_warm_pools WHERE group_name = ?", "t",
                       group) == 0) {
            s = sqlite3_step(st) == SQLITE_ROW ? vm_db_text(st, 0) : "Stopped";
        }
        snprintf(buf, 32, "Warmed:%.20s", strncmp(s, "Terminat", 8) == 0 ? "Terminated" : s);
    } else
        snprintf(buf, 32, "InService");
}

/* The instance's whole tree; 0, or -1 when it has none (gone). */
static int
build(vm_ctx *ctx, const char *id, tree *t, char **user_data, size_t *ud_len, char **document)
{
    vm_error err = { 0 };
    _cleanup_stmt_ sqlite3_stmt *in = NULL, *en = NULL, *gs = NULL, *kp = NULL, *as = NULL, *tg = NULL;
    if (vm_db_stmt(ctx->db, &in, &err,
                   "SELECT image_id, instance_type, launch_index, reservation_id, key_name, user_data, launched_at, "
                   "md_tags FROM instances WHERE id = ? AND state NOT IN (32, 48)",
                   "t", id) < 0)
        return -1;
    if (sqlite3_step(in) != SQLITE_ROW)
        return -1;
    const char *ami = vm_db_text(in, 0), *type = vm_db_text(in, 1), *key = vm_db_text(in, 4);
    put(t, ami, "meta-data/ami-id");
    put(t, vm_db_text(in, 2), "meta-data/ami-launch-index");
    put(t, "(unknown)", "meta-data/ami-manifest-path");
    put(t, "/dev/vda", "meta-data/block-device-mapping/ami");
    put(t, "/dev/vda", "meta-data/block-device-mapping/root");
    put(t, "none", "meta-data/instance-action");
    put(t, id, "meta-data/instance-id");
    put(t, "on-demand", "meta-data/instance-life-cycle");
    put(t, type, "meta-data/instance-type");
    put(t, "default-hvm", "meta-data/profile");
    put(t, vm_db_text(in, 3), "meta-data/reservation-id");
    put(t, "amazonaws.com", "meta-data/services/domain");
    put(t, "aws", "meta-data/services/partition");

    char host[256] = "", zone[40] = "", zone_id[48] = "", ip[64] = "";
    if (net_instance_filter_value(ctx, id, "private-dns-name", host, sizeof(host), &err) < 0)
        host[0] = '\0';
    if (vm_db_prepare(ctx->db,
                      "SELECT e.id, e.mac, e.ip, e.subnet_id, s.cidr, s.vpc_id, v.cidr FROM network_interfaces e "
                      "JOIN subnets s ON s.id = e.subnet_id JOIN vpcs v ON v.id = s.vpc_id "
                      "WHERE e.instance_id = ? ORDER BY e.rowid",
                      &en, &err) < 0 ||
        vm_db_prepare(ctx->db,
                      "SELECT g.id, g.name FROM eni_groups eg JOIN security_groups g ON g.id = eg.group_id "
                      "WHERE eg.eni_id = ? ORDER BY eg.rowid",
                      &gs, &err) < 0)
        return -1;
    if (vm_db_bind(en, &err, "t", id) < 0)
        return -1;
    for (int dev = 0; sqlite3_step(en) == SQLITE_ROW; dev++) {
        const char *eni = vm_db_text(en, 0), *mac = vm_db_text(en, 1), *sub = vm_db_text(en, 3);
        if (dev == 0) {
            snprintf(ip, sizeof(ip), "%s", vm_db_text(en, 2));
            put(t, mac, "meta-data/mac");
            put(t, ip, "meta-data/local-ipv4");
            put(t, host, "meta-data/hostname");
            put(t, host, "meta-data/local-hostname");
            net_subnet_zone(ctx, sub, zone);
            vm_zone_id_of(ctx, zone, zone_id);
        }
        const char *m = "meta-data/network/interfaces/macs";
        put(t, "", "%s/%s/device-number", m, mac);
        free(t->v[t->n - 1].value);
        if (asprintf(&t->v[t->n - 1].value, "%d", dev) < 0)
            t->v[t->n - 1].value = NULL, t->oom = true;
        put(t, eni, "%s/%s/interface-id", m, mac);
        put(t, host, "%s/%s/local-hostname", m, mac);
        put(t, vm_db_text(en, 2), "%s/%s/local-ipv4s", m, mac);
        /* its Elastic IP */
        char pub[NET_ADDR_MAX], pdns[128];
        if (net_instance_public(ctx, eni, pub, pdns, sizeof(pdns), NULL, NULL)) {
            if (dev == 0) {
                put(t, pub, "meta-data/public-ipv4");
                put(t, pdns, "meta-data/public-hostname");
            }
            put(t, pub, "%s/%s/public-ipv4s", m, mac);
            put(t, pdns, "%s/%s/public-hostname", m, mac);
            put(t, vm_db_text(en, 2), "%s/%s/ipv4-associations/%s", m, mac, pub);
        }
        put(t, mac, "%s/%s/mac", m, mac);
        put(t, ctx->account_id, "%s/%s/owner-id", m, mac);
        put(t, sub, "%s/%s/subnet-id", m, mac);
        put(t, vm_db_text(en, 4), "%s/%s/subnet-ipv4-cidr-block", m, mac);
        put(t, vm_db_text(en, 5), "%s/%s/vpc-id", m, mac);
        put(t, vm_db_text(en, 6), "%s/%s/vpc-ipv4-cidr-block", m, mac);
        put(t, vm_db_text(en, 6), "%s/%s/vpc-ipv4-cidr-blocks", m, mac);
        /* newline-separated lists */
        char ids[1024] = "", names[2048] = "";
        sqlite3_reset(gs);
        while (vm_db_bind(gs, &err, "t", eni) == 0 && sqlite3_step(gs) == SQLITE_ROW) {
            size_t a = strlen(ids), b = strlen(names);
            snprintf(ids + a, sizeof(ids) - a, "%s%s", a ? "\n" : "", vm_db_text(gs, 0));
            snprintf(names + b, sizeof(names) - b, "%s%s", b ? "\n" : "", vm_db_text(gs, 1));
        }
        put(t, ids, "%s/%s/security-group-ids", m, mac);
        put(t, names, "%s/%s/security-groups", m, mac);
        if (dev == 0)
            put(t, names, "meta-data/security-groups");
    }
    put(t, zone[0] ? zone : ctx->az, "meta-data/placement/availability-zone");
    put(t, zone_id, "meta-data/placement/availability-zone-id");
    put(t, ctx->region, "meta-data/placement/region");

    if (*key && vm_db_stmt(ctx->db, &kp, &err, "SELECT public_key FROM key_pairs WHERE name = ?", "t", key) == 0) {
        if (sqlite3_step(kp) == SQLITE_ROW) {
            put(t, key, "meta-data/public-keys/0");
            put(t, vm_db_text(kp, 0), "meta-data/public-keys/0/openssh-key");
        }
    }
    if (vm_db_stmt(ctx->db, &as, &err, "SELECT lifecycle, group_name FROM asg_instances WHERE instance_id = ?", "t",
                   id) == 0) {
        if (sqlite3_step(as) == SQLITE_ROW) {
            char st[32];
            target_state(ctx, vm_db_text(as, 0), vm_db_text(as, 1), st);
            put(t, st, "meta-data/autoscaling/target-lifecycle-state");
        }
    }
    /* InstanceMetadataTags=enabled: the instance's tags, a key per path */
    if (strcmp(vm_db_text(in, 7), "enabled") == 0 &&
        vm_db_stmt(ctx->db, &tg, &err, "SELECT key, value FROM tags WHERE resource_id = ? ORDER BY key", "t",
                   id) == 0) {
        while (sqlite3_step(tg) == SQLITE_ROW)
            if (!strchr(vm_db_text(tg, 0), '/') && strcmp(vm_db_text(tg, 0), "..") && strcmp(vm_db_text(tg, 0), "."))
                put(t, vm_db_text(tg, 1), "meta-data/tags/instance/%s", vm_db_text(tg, 0));
    }

    /* user data as given (base64 in the store) */
    const char *b64 = vm_db_text(in, 5);
    size_t n64 = strlen(b64);
    *user_data = NULL;
    *ud_len = 0;
    if (n64) {
        unsigned char *ud = malloc(n64 + 1);
        int n = ud ? EVP_DecodeBlock(ud, (const unsigned char *)b64, (int)n64) : -1;
        if (n >= 0) {
            n -= (n64 >= 1 && b64[n64 - 1] == '=') + (n64 >= 2 && b64[n64 - 2] == '=');
            *user_data = (char *)ud;
            *ud_len = (size_t)n;
        } else
            free(ud);
    }
    char pending[32];
    vm_time_format(sqlite3_column_int64(in, 6), pending, sizeof(pending));
    if (asprintf(document,
                 "{\n  \"accountId\" : \"%s\",\n  \"architecture\" : \"x86_64\",\n  \"availabilityZone\" : \"%s\",\n"
                 "  \"billingProducts\" : null,\n  \"devpayProductCodes\" : null,\n  \"marketplaceProductCodes\" : null,\n"
                 "  \"imageId\" : \"%s\",\n  \"instanceId\" : \"%s\",\n  \"instanceType\" : \"%s\",\n"
                 "  \"kernelId\" : null,\n  \"pendingTime\" : \"%s\",\n  \"privateIp\" : \"%s\",\n"
                 "  \"ramdiskId\" : null,\n  \"region\" : \"%s\",\n  \"version\" : \"2017-09-30\"\n}",
                 ctx->account_id, zone[0] ? zone : ctx->az, ami, id, type, pending, ip, ctx->region) < 0)
        *document = NULL;
    put(t, *document, "dynamic/instance-identity/document");
    return t->oom || !*document ? -1 : 0;
}

int
imds_instance_at(vm_ctx *ctx, const char *subnet_id, const char *ip, char id[VM_ID_MAX], inst_md_opts *md)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, &(vm_error){ 0 },
                   "SELECT i.id, i.md_tokens, i.md_endpoint, i.md_hop_limit FROM network_interfaces e "
                   "JOIN instances i ON i.id = e.instance_id WHERE e.subnet_id = ? AND e.ip = ?",
                   "tt", subnet_id, ip) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    snprintf(id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    snprintf(md->tokens, sizeof(md->tokens), "%s", vm_db_text(st, 1));
    snprintf(md->endpoint, sizeof(md->endpoint), "%s", vm_db_text(st, 2));
    md->hop_limit = sqlite3_column_int(st, 3);
    return 1;
}

static void
reply_text(imds_reply *r, int status, const char *text)
{
    r->status = status;
    r->body = strdup(text);
    r->len = r->body ? strlen(r->body) : 0;
    r->type = "text/plain";
    if (!r->body)
        r->status = 500;
}

static const char not_found[] = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
                                "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
                                "\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
                                "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
                                " <head>\n  <title>404 - Not Found</title>\n </head>\n"
                                " <body>\n  <h1>404 - Not Found</h1>\n </body>\n</html>\n";

void
imds_get(vm_ctx *ctx, const char *instance_id, const char *path, imds_reply *r)
{
    *r = (imds_reply){ 0 };
    tree t = { 0 };
    char *ud = NULL, *doc = NULL;
    size_t ud_len = 0;
    if (build(ctx, instance_id, &t, &ud, &ud_len, &doc) < 0) {
        tree_free(&t);
        free(ud);
        free(doc);
        reply_text(r, t.oom ? 500 : 404, not_found);
        return;
    }
    /* the path without its trailing slashes: a directory is asked with or without one */
    char want[512];
    snprintf(want, sizeof(want), "%s", path);
    for (size_t l = strlen(want); l && want[l - 1] == '/'; l--)
        want[l - 1] = '\0';
    if (strcmp(want, "user-data") == 0) {
        if (ud) {
            r->status = 200;
            r->body = ud;
            r->len = ud_len;
            r->type = "application/octet-stream";
            ud = NULL;
        } else
            reply_text(r, 404, not_found);
        goto out;
    }
    if (!*want) { /* the version's index */
        reply_text(r, 200, ud ? "dynamic\nmeta-data\nuser-data" : "dynamic\nmeta-data");
        goto out;
    }
    for (size_t i = 0; i < t.n; i++)
        if (strcmp(t.v[i].path, want) == 0 && strcmp(want, "meta-data/public-keys/0") != 0) {
            reply_text(r, 200, t.v[i].value);
            goto out;
        }
    /* a directory: its children, one per line, a subdirectory with a slash */
    size_t wl = strlen(want), cap = 4096, len = 0;
    char *list = malloc(cap);
    if (!list) {
        reply_text(r, 500, "");
        goto out;
    }
    list[0] = '\0';
    bool keys = strcmp(want, "meta-data/public-keys") == 0;
    for (size_t i = 0; i < t.n; i++) {
        const char *p = t.v[i].path;
        if (strncmp(p, want, wl) != 0 || p[wl] != '/')
            continue;
        const char *child = p + wl + 1, *slash = strchr(child, '/');
        size_t cl = slash ? (size_t)(slash - child) : strlen(child);
        char entry[300];
        if (keys) /* "0=name", as EC2 lists the key pairs */
            snprintf(entry, sizeof(entry), "%.*s=%s", (int)cl, child, slash ? "" : t.v[i].value);
        else
            snprintf(entry, sizeof(entry), "%.*s%s", (int)cl, child, slash ? "/" : "");
        if (keys && slash)
            continue;
        /* once each (the tree lists a directory's leaves together) */
        bool seen = false;
        for (const char *q = list; *q && !seen;) {
            const char *nl = strchr(q, '\n');
            size_t ql = nl ? (size_t)(nl - q) : strlen(q);
            seen = ql == strlen(entry) && strncmp(q, entry, ql) == 0;
            q = nl ? nl + 1 : q + ql;
        }
        if (seen)
            continue;
        size_t el = strlen(entry);
        if (len + el + 2 > cap) {
            char *bigger = realloc(list, cap *= 2);
            if (!bigger)
                break;
            list = bigger;
        }
        len += (size_t)sprintf(list + len, "%s%s", len ? "\n" : "", entry);
    }
    if (len) {
        r->status = 200;
        r->body = list;
        r->len = len;
        r->type = "text/plain";
    } else {
        free(list);
        reply_text(r, 404, not_found);
    }
out:
    tree_free(&t);
    free(ud);
    free(doc);
}
