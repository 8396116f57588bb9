#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "ids.h"

static void
append(char *buf, size_t len, const char *id)
{
    if (strstr(buf, id))
        return;
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "%s%s", n ? "," : "", id);
}

/* ids the request named (…Id, …Id.N parameters) and ids the response made (instancesSet). */
static void
collect(const vm_params *p, const vm_node *resp, char *buf, size_t len)
{
    static const char *const prefixes[] = { "i", "ami", "r", "vol", "snap", "vpc", "subnet", "sg", "key", NULL };
    for (size_t i = 0; p && i < p->n; i++)
        for (const char *const *pre = prefixes; *pre; pre++)
            if (vm_id_valid(p->v[i].value, *pre))
                append(buf, len, p->v[i].value);
    const vm_node *set = resp ? vm_node_child(resp, "instancesSet") : NULL;
    for (const vm_node *it = set ? set->first : NULL; it; it = it->next) {
        const vm_node *id = vm_node_child(it, "instanceId");
        if (id && id->str)
            append(buf, len, id->str);
    }
}

void
vm_audit_record(vm_ctx *ctx, const char *principal, const char *action, const vm_params *p, const vm_node *resp,
                const vm_error *result)
{
    char resources[1024] = "";
    collect(p, resp, resources, sizeof(resources));
    bool failed = vm_error_is_set(result);
    vm_db_run(ctx->db, &(vm_error){ 0 },
              "INSERT INTO audit (at, principal, action, resource_id, result, detail) "
              "VALUES (strftime('%s','now'), ?, ?, ?, ?, ?)",
              "ttttt", principal, action, resources, failed ? vm_error_code_name(result->code) : "OK",
              failed ? result->msg : "");
}

int
vm_audit_list(vm_ctx *ctx, int limit, vm_node *resp, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT at, principal, action, resource_id, result, detail FROM "
                   "(SELECT * FROM audit ORDER BY id DESC LIMIT ?) ORDER BY id",
                   "i", (long long)limit) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "eventSet", "Events");
    while (sqlite3_step(st) == SQLITE_ROW) {
        vm_node *it = vm_node_item(list);
        vm_node_time(it, "eventTime", NULL, sqlite3_column_int64(st, 0));
        vm_node_str(it, "principal", NULL, vm_db_text(st, 1));
        vm_node_str(it, "action", NULL, vm_db_text(st, 2));
        vm_node_str(it, "resources", NULL, vm_db_text(st, 3));
        vm_node_str(it, "result", NULL, vm_db_text(st, 4));
        vm_node_str(it, "message", NULL, vm_db_text(st, 5));
    }
    return 0;
}
