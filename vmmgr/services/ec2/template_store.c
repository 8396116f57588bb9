#include "template_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "../../core/db.h"

static int
load_row(sqlite3_stmt *st, lt_obj *ret)
{
    *ret = (lt_obj){ 0 };
    snprintf(ret->id, sizeof(ret->id), "%s", vm_db_text(st, 0));
    snprintf(ret->name, sizeof(ret->name), "%s", vm_db_text(st, 1));
    ret->default_version = sqlite3_column_int64(st, 2);
    ret->latest_version = sqlite3_column_int64(st, 3);
    ret->created_at = sqlite3_column_int64(st, 4);
    return 0;
}

int
lt_find(vm_ctx *ctx, const char *id, const char *name, lt_obj *ret, vm_error *err)
{
    if (id && *id && name && *name)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "The parameters LaunchTemplateId and LaunchTemplateName cannot be used together");
    if (!(id && *id) && !(name && *name))
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                            "The request must contain the parameter LaunchTemplateName or LaunchTemplateId");
    if (id && *id && !vm_id_valid(id, "lt"))
        return vm_error_set(err, VM_ERR_LT_ID_MALFORMED, "The launch template ID '%s' is malformed.", id);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   id && *id ? "SELECT id, name, default_version, latest_version, created_at FROM launch_templates "
                   "WHERE id = ?"
                   : "SELECT id, name, default_version, latest_version, created_at FROM launch_templates "
                   "WHERE name = ?",
                   "t", id && *id ? id : name) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return load_row(st, ret);
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading a launch template", err);
    if (id && *id)
        return vm_error_set(err, VM_ERR_LT_ID_NOT_FOUND, "The specified launch template, with template ID %s, does not "
                            "exist.", id);
    return vm_error_set(err, VM_ERR_LT_NAME_NOT_FOUND,
                        "The specified launch template, with template name %s, does not exist.", name);
}

static bool
version_exists(vm_ctx *ctx, const char *id, long v)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT 1 FROM launch_template_versions WHERE template_id = ? AND version = ?", "ti", id,
                   (long long)v) < 0)
        return false;
    return sqlite3_step(st) == SQLITE_ROW;
}

int
lt_version_resolve(vm_ctx *ctx, const lt_obj *lt, const char *spec, long *ret, vm_error *err)
{
    if (!spec || !*spec || strcmp(spec, "$Default") == 0) {
        *ret = lt->default_version;
        return 0;
    }
    if (strcmp(spec, "$Latest") == 0) {
        *ret = lt->latest_version;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(spec, &end, 10);
    if (errno || *end || end == spec || v < 1)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The launch template version '%s' is not valid: a number, $Latest or $Default", spec);
    if (!version_exists(ctx, lt->id, v))
        return vm_error_set(err, VM_ERR_LT_VERSION_NOT_FOUND,
                            "Could not find launch template version %ld of the launch template %s", v, lt->id);
    *ret = v;
    return 0;
}

int
lt_data_load(vm_ctx *ctx, const char *id, long v, vm_params **ret, vm_error *err)
{
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (!p)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT key, value FROM launch_template_data WHERE template_id = ? AND version = ?", "ti", id,
                   (long long)v) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (vm_params_set(p, vm_db_text(st, 0), vm_db_text(st, 1)) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading a launch template's data", err);
    *ret = TAKE_PTR(p);
    return 0;
}

static bool
has_top(const vm_params *p, const char *key)
{
    size_t len = strcspn(key, ".");
    for (size_t i = 0; p && i < p->n; i++)
        if (strncmp(p->v[i].key, key, len) == 0 && (p->v[i].key[len] == '\0' || p->v[i].key[len] == '.'))
            return true;
    return false;
}

int
lt_params_overlay(const vm_params *base, const vm_params *over, vm_params *out, vm_error *err)
{
    for (size_t i = 0; over && i < over->n; i++)
        if (vm_params_set(out, over->v[i].key, over->v[i].value) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; base && i < base->n; i++)
        if (!has_top(over, base->v[i].key) && vm_params_set(out, base->v[i].key, base->v[i].value) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

static int
insert_version(vm_ctx *ctx, const char *id, long v, const char *description, const vm_params *data, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL, *kv = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO launch_template_versions (template_id, version, description, created_at) "
                      "VALUES (?, ?, ?, ?)",
                      &st, err) < 0 ||
        vm_db_prepare(ctx->db, "INSERT OR REPLACE INTO launch_template_data (template_id, version, key, value) "
                               "VALUES (?, ?, ?, ?)",
                      &kv, err) < 0)
        return -1;
    if (vm_db_bind(st, err, "titi", id, (long long)v, description, (long long)(time(NULL))) < 0 ||
        sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording a launch template version", err);
    for (size_t i = 0; i < data->n; i++) {
        sqlite3_reset(kv);
        if (vm_db_bind(kv, err, "titt", id, (long long)v, data->v[i].key, data->v[i].value) < 0 ||
            sqlite3_step(kv) != SQLITE_DONE)
            return vm_db_error(ctx->db, "recording a launch template's data", err);
    }
    return 0;
}

int
lt_create(vm_ctx *ctx, const char *name, const char *description, const vm_params *data, const vm_tag *tags,
          size_t ntags, lt_obj *ret, vm_error *err)
{
    lt_obj lt = { .default_version = 1, .latest_version = 1, .created_at = time(NULL) };
    vm_id_new("lt", lt.id);
    snprintf(lt.name, sizeof(lt.name), "%s", name);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO launch_templates (id, name, default_version, latest_version, created_at) "
                   "VALUES (?, ?, 1, 1, ?)",
                   "tti", lt.id, lt.name, (long long)lt.created_at) < 0)
        goto fail;
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(ctx->db) == SQLITE_CONSTRAINT_UNIQUE)
            vm_error_set(err, VM_ERR_LT_NAME_DUPLICATE, "Launch template name already in use.");
        else
            vm_db_error(ctx->db, "recording a launch template", err);
        goto fail;
    }
    if (insert_version(ctx, lt.id, 1, description, data, err) < 0 || vm_tags_put(ctx, lt.id, tags, ntags, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0)
        goto fail;
    *ret = lt;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
lt_create_version(vm_ctx *ctx, const lt_obj *lt, long source, const char *description, const vm_params *data,
                  long *ret_version, vm_error *err)
{
    _cleanup_(vm_params_freep) vm_params *base = NULL, *merged = vm_params_new();
    if (!merged)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (source && (lt_data_load(ctx, lt->id, source, &base, err) < 0 ||
                   lt_params_overlay(base, data, merged, err) < 0))
        return -1;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    /* the latest number is read inside the transaction: two writers cannot take the same one */
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    long v = 0;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE launch_templates SET latest_version = latest_version + 1 WHERE id = ? "
                   "RETURNING latest_version",
                   "t", lt->id) < 0)
        goto fail;
    if (sqlite3_step(st) != SQLITE_ROW) {
        vm_error_set(err, VM_ERR_LT_ID_NOT_FOUND, "The specified launch template, with template ID %s, does not exist.",
                     lt->id);
        goto fail;
    }
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(TAKE_PTR(st));
    if (insert_version(ctx, lt->id, v, description, source ? merged : data, err) < 0 || vm_db_commit(ctx->db, err) < 0)
        goto fail;
    *ret_version = v;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
lt_set_default(vm_ctx *ctx, const lt_obj *lt, long version, vm_error *err)
{
    if (!version_exists(ctx, lt->id, version))
        return vm_error_set(err, VM_ERR_LT_VERSION_NOT_FOUND,
                            "Could not find launch template version %ld of the launch template %s", version, lt->id);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "UPDATE launch_templates SET default_version = ? WHERE id = ?", "it",
                   (long long)version, lt->id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "setting a launch template's default version", err);
    return 0;
}

int
lt_delete(vm_ctx *ctx, const lt_obj *lt, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "DELETE FROM launch_templates WHERE id = ?", "t", lt->id) < 0)
        goto fail;
    if (sqlite3_step(st) != SQLITE_DONE) {
        vm_db_error(ctx->db, "deleting a launch template", err);
        goto fail;
    }
    if (vm_tags_drop(ctx, lt->id, err) < 0 || vm_db_commit(ctx->db, err) < 0)
        goto fail;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
lt_delete_version(vm_ctx *ctx, const lt_obj *lt, long version, vm_error *err)
{
    if (version == lt->default_version)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Cannot delete the default version of a launch template; delete the template instead");
    if (!version_exists(ctx, lt->id, version))
        return vm_error_set(err, VM_ERR_LT_VERSION_NOT_FOUND, "The specified launch template version does not exist");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "DELETE FROM launch_template_versions WHERE template_id = ? AND version = ?",
                   "ti", lt->id, (long long)version) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "deleting a launch template version", err);
    return 0;
}
