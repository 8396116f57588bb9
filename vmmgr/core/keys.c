#include "keys.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static int
random_text(char *out, size_t n, const char *alphabet, vm_error *err)
{
    unsigned char buf[64];
    size_t an = strlen(alphabet);
    if (n > sizeof(buf) || RAND_bytes(buf, (int)n) != 1)
        return vm_error_set(err, VM_ERR_INTERNAL, "no random bytes for a key");
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[buf[i] % an]; /* 256 % 32 == 0 and 256 % 64 == 0: no bias */
    out[n] = '\0';
    return 0;
}

int
vm_key_create(vm_ctx *ctx, char ret_id[VM_KEY_ID_LEN + 1], char ret_secret[VM_KEY_SECRET_LEN + 1], vm_error *err)
{
    char id[VM_KEY_ID_LEN + 1] = "AKIA";
    char secret[VM_KEY_SECRET_LEN + 1];
    if (random_text(id + 4, VM_KEY_ID_LEN - 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", err) < 0 ||
        random_text(secret, VM_KEY_SECRET_LEN, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO access_keys (id, secret, created_at) VALUES (?, ?, strftime('%s','now'))", "tt", id,
                   secret) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving access key", err);
    memcpy(ret_id, id, sizeof(id));
    memcpy(ret_secret, secret, sizeof(secret));
    return 0;
}

char *
vm_key_secret(vm_ctx *ctx, const char *id)
{
    /* every signed request asks: prepared once (a key deleted is seen at the next request) */
    vm_error ignore = { 0 };
    sqlite3_stmt *st = vm_ctx_stmt(ctx, "SELECT secret FROM access_keys WHERE id = ?", &ignore);
    if (!st || vm_db_bind(st, &ignore, "t", id) < 0)
        return NULL;
    char *secret = sqlite3_step(st) == SQLITE_ROW ? strdup(vm_db_text(st, 0)) : NULL;
    sqlite3_reset(st);
    return secret;
}

int
vm_key_list(vm_ctx *ctx, vm_node *resp, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id, created_at FROM access_keys ORDER BY created_at, id", &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "accessKeySet", "AccessKeys");
    while (sqlite3_step(st) == SQLITE_ROW) {
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "accessKeyId", NULL, vm_db_text(st, 0));
        vm_node_time(it, "createDate", NULL, sqlite3_column_int64(st, 1));
    }
    return 0;
}

int
vm_key_delete(vm_ctx *ctx, const char *id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "DELETE FROM access_keys WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "deleting access key", err);
    if (sqlite3_changes(ctx->db) == 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "access key '%s' does not exist", id);
    return 0;
}

int
vm_key_count(vm_ctx *ctx)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ctx->db, "SELECT count(*) FROM access_keys", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        return -1;
    return sqlite3_column_int(st, 0);
}
