#include "tags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "db.h"
#include "filter.h"
#include "ids.h"

/* Valid UTF-8 with no control characters: what a tag may hold and every output format can carry. */
static bool
tag_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
        int extra = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0 || (extra == 1 && *p < 0xc2))
            return false;
        p++;
        for (int i = 0; i < extra; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return false;
    }
    return true;
}

/* Characters, not bytes: EC2 counts Unicode characters. */
static size_t
utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

int
vm_tags_parse(const vm_params *p, const char *prefix, vm_tag **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, prefix, &idx, &n, err) < 0)
        return -1;
    if (n > VM_TAGS_MAX)
        return vm_error_set(err, VM_ERR_TAG_LIMIT, "The maximum number of tags (%d) was exceeded", VM_TAGS_MAX);
    _cleanup_free_ vm_tag *tags = calloc(n + 1, sizeof(vm_tag));
    if (!tags)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *k = vm_params_getf(p, "%s.%d.Key", prefix, idx[i]);
        const char *v = vm_params_getf(p, "%s.%d.Value", prefix, idx[i]);
        if (!k || !*k)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter %s.%d.Key",
                                prefix, idx[i]);
        if (utf8_len(k) > 128)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "Tag key exceeds the maximum length of 128 characters");
        if (v && utf8_len(v) > 256)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "Tag value exceeds the maximum length of 256 characters");
        if (!tag_text_ok(k) || (v && !tag_text_ok(v)))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "Tag keys and values must be valid UTF-8 without control characters");
        if (strncmp(k, "aws:", 4) == 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "Tag keys starting with 'aws:' are reserved for internal use");
        for (size_t j = 0; j < i; j++)
            if (strcmp(tags[j].key, k) == 0)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Duplicate tag key '%s' specified", k);
        tags[i].key = k;
        tags[i].value = v ? v : "";
    }
    *ret = TAKE_PTR(tags);
    *ret_n = n;
    return 0;
}

int
vm_tags_from_spec(const vm_params *p, const char *resource_type, vm_tag **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    *ret = NULL;
    *ret_n = 0;
    if (vm_params_indexes(p, "TagSpecification", &idx, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *rt = vm_params_getf(p, "TagSpecification.%d.ResourceType", idx[i]);
        if (!rt)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                                "The request must contain the parameter TagSpecification.%d.ResourceType", idx[i]);
        if (strcmp(rt, resource_type) != 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "'%s' is not a valid taggable resource type for this operation", rt);
        if (*ret) {
            free(*ret);
            *ret = NULL;
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "The tag specification resource type '%s' is given more than once", rt);
        }
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "TagSpecification.%d.Tag", idx[i]);
        if (vm_tags_parse(p, prefix, ret, ret_n, err) < 0)
            return -1;
    }
    return 0;
}

int
vm_tags_put(vm_ctx *ctx, const char *resource_id, const vm_tag *tags, size_t n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "INSERT OR REPLACE INTO tags (resource_id, key, value) VALUES (?, ?, ?)", &st, err) <
        0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(st);
        if (vm_db_bind(st, err, "ttt", resource_id, tags[i].key, tags[i].value) < 0 || sqlite3_step(st) != SQLITE_DONE)
            return vm_db_error(ctx->db, "saving tags", err);
    }
    _cleanup_stmt_ sqlite3_stmt *cnt = NULL;
    if (vm_db_stmt(ctx->db, &cnt, err, "SELECT count(*) FROM tags WHERE resource_id = ?", "t", resource_id) < 0)
        return -1;
    if (sqlite3_step(cnt) == SQLITE_ROW && sqlite3_column_int(cnt, 0) > VM_TAGS_MAX)
        return vm_error_set(err, VM_ERR_TAG_LIMIT, "The maximum number of tags (%d) for '%s' was exceeded",
                            VM_TAGS_MAX, resource_id);
    return 0;
}

int
vm_tags_drop(vm_ctx *ctx, const char *resource_id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "DELETE FROM tags WHERE resource_id = ?", "t", resource_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "removing tags", err);
    return 0;
}

static const char tags_of[] = "SELECT key, value FROM tags WHERE resource_id = ? ORDER BY key";

int
vm_tags_render(vm_ctx *ctx, vm_node *parent, const char *resource_id, vm_error *err)
{
    sqlite3_stmt *st = vm_ctx_stmt(ctx, tags_of, err);
    if (!st || vm_db_bind(st, err, "t", resource_id) < 0)
        return -1;
    vm_node *list = vm_node_list(parent, "tagSet", "Tags");
    while (sqlite3_step(st) == SQLITE_ROW) {
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "key", NULL, vm_db_text(st, 0));
        vm_node_str(it, "value", NULL, vm_db_text(st, 1));
    }
    sqlite3_reset(st);
    return 0;
}

int
vm_tags_match(vm_ctx *ctx, const char *resource_id, const char *filter, const char *const *values, vm_error *err)
{
    bool by_key = strcmp(filter, "tag-key") == 0;
    if (!by_key && strncmp(filter, "tag:", 4) != 0)
        return 0; /* an attribute vmmgr's resources do not have: nothing matches */
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT key, value FROM tags WHERE resource_id = ?", "t", resource_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = vm_db_text(st, 0), *v = vm_db_text(st, 1);
        if (!by_key && strcmp(k, filter + 4) != 0)
            continue;
        if (vm_match_any(by_key ? k : v, values))
            return 1;
    }
    return 0;
}

/* Every resource id must name something that exists. */
static int
check_resources(vm_ctx *ctx, const char **ids, vm_error *err)
{
    static const struct {
        const char *prefix, *sql;
        vm_err_code missing;
    } kinds[] = {
        { "i", "SELECT 1 FROM instances WHERE id = ?", VM_ERR_INSTANCE_NOT_FOUND },
        { "ami", "SELECT 1 FROM images WHERE id = ? AND state != 'deregistered'", VM_ERR_AMI_NOT_FOUND },
        { "key", "SELECT 1 FROM key_pairs WHERE id = ?", VM_ERR_KEYPAIR_NOT_FOUND },
        { "vol", "SELECT 1 FROM volumes WHERE id = ? AND state != 'deleted'", VM_ERR_VOLUME_NOT_FOUND },
        { "snap", "SELECT 1 FROM snapshots WHERE id = ? AND state != 'deleted'", VM_ERR_SNAPSHOT_NOT_FOUND },
        { "vpc", "SELECT 1 FROM vpcs WHERE id = ?", VM_ERR_VPC_NOT_FOUND },
        { "subnet", "SELECT 1 FROM subnets WHERE id = ?", VM_ERR_SUBNET_NOT_FOUND },
        { "sg", "SELECT 1 FROM security_groups WHERE id = ?", VM_ERR_GROUP_NOT_FOUND },
        { "igw", "SELECT 1 FROM internet_gateways WHERE id = ?", VM_ERR_IGW_NOT_FOUND },
        { "rtb", "SELECT 1 FROM route_tables WHERE id = ?", VM_ERR_RTB_NOT_FOUND },
        { "eipalloc", "SELECT 1 FROM addresses WHERE allocation_id = ?", VM_ERR_ALLOCATION_NOT_FOUND },
        { "nat", "SELECT 1 FROM nat_gateways WHERE id = ? AND state != 'deleted'", VM_ERR_NATGW_NOT_FOUND },
    };
    if (!ids[0])
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter ResourceId");
    for (; *ids; ids++) {
        size_t k = 0;
        while (k < sizeof(kinds) / sizeof(kinds[0]) && !vm_id_valid(*ids, kinds[k].prefix))
            k++;
        if (k == sizeof(kinds) / sizeof(kinds[0]))
            return vm_error_set(err, VM_ERR_INVALID_ID, "The ID '%s' is not valid", *ids);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_stmt(ctx->db, &st, err, kinds[k].sql, "t", *ids) < 0)
            return -1;
        if (sqlite3_step(st) != SQLITE_ROW)
            return vm_error_set(err, kinds[k].missing, "The ID '%s' does not exist", *ids);
    }
    return 0;
}

int
vm_tags_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_free_ vm_tag *tags = NULL;
    size_t n;
    if (vm_params_list(p, "ResourceId", &ids, NULL, err) < 0 || check_resources(ctx, ids, err) < 0 ||
        vm_tags_parse(p, "Tag", &tags, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter Tag");
    bool dry;
    if (vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    for (const char **id = ids; *id; id++)
        if (vm_tags_put(ctx, *id, tags, n, err) < 0) {
            vm_db_rollback(ctx->db);
            return -1;
        }
    if (vm_db_commit(ctx->db, err) < 0)
        return -1;
    vm_node_bool(resp, "return", NULL, true);
    return 0;
}

int
vm_tags_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_list(p, "ResourceId", &ids, NULL, err) < 0 || check_resources(ctx, ids, err) < 0 ||
        vm_params_indexes(p, "Tag", &idx, &n, err) < 0)
        return -1;
    bool dry;
    if (vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "DELETE FROM tags WHERE resource_id = ?1 AND (?2 IS NULL OR key = ?2) "
                               "AND (?3 IS NULL OR value = ?3)",
                      &st, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    for (const char **id = ids; *id; id++) {
        /* no Tag given: every tag of the resource goes, as in EC2 */
        for (size_t i = 0; i < (n ? n : 1); i++) {
            const char *k = n ? vm_params_getf(p, "Tag.%d.Key", idx[i]) : NULL;
            const char *v = n ? vm_params_getf(p, "Tag.%d.Value", idx[i]) : NULL;
            if (n && !k) {
                vm_db_rollback(ctx->db);
                return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                                    "The request must contain the parameter Tag.%d.Key", idx[i]);
            }
            sqlite3_reset(st);
            if (vm_db_bind(st, err, "ttt", *id, k, v) < 0 || sqlite3_step(st) != SQLITE_DONE) {
                vm_db_rollback(ctx->db);
                return vm_db_error(ctx->db, "deleting tags", err);
            }
        }
    }
    if (vm_db_commit(ctx->db, err) < 0)
        return -1;
    vm_node_bool(resp, "return", NULL, true);
    return 0;
}

/* EC2's resource type of an id, from its prefix. */
static const char *
resource_type(const char *id)
{
    static const struct {
        const char *prefix, *type;
    } kinds[] = {
        { "i-", "instance" },        { "ami-", "image" },          { "key-", "key-pair" },
        { "vol-", "volume" },        { "snap-", "snapshot" },      { "vpc-", "vpc" },
        { "subnet-", "subnet" },     { "sg-", "security-group" },  { "sgr-", "security-group-rule" },
        { "eni-", "network-interface" }, { "igw-", "internet-gateway" }, { "rtb-", "route-table" },
        { "eipalloc-", "elastic-ip" },   { "nat-", "natgateway" },
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strncmp(id, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
            return kinds[i].type;
    return "";
}

int
vm_tags_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    if (vm_filters_parse(p, "DescribeTags", &fs, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT resource_id, key, value FROM tags ORDER BY resource_id, key", &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "tagSet", "Tags");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *rid = vm_db_text(st, 0), *k = vm_db_text(st, 1), *v = vm_db_text(st, 2);
        const char *type = resource_type(rid);
        bool keep = true;
        for (size_t f = 0; keep && f < fs->n; f++) {
            const char *name = fs->v[f].name;
            const char *subject = strcmp(name, "resource-id") == 0     ? rid
                                  : strcmp(name, "key") == 0           ? k
                                  : strcmp(name, "value") == 0         ? v
                                  : strcmp(name, "resource-type") == 0 ? type
                                                                       : NULL;
            int m = subject ? vm_match_any(subject, fs->v[f].values) : vm_tags_match(ctx, rid, name, fs->v[f].values, err);
            if (m < 0)
                return -1;
            keep = m;
        }
        if (!keep)
            continue;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "resourceId", NULL, rid);
        vm_node_str(it, "resourceType", NULL, type);
        vm_node_str(it, "key", NULL, k);
        vm_node_str(it, "value", NULL, v);
    }
    return 0;
}
