/* Makes COUNT instance records in a state dir, each with a defined (not started) domain, as
 * stopped instances are: the control-plane load of a large cloud without COUNT running guests.
 *
 *   seed STATE_DIR COUNT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../images/catalog.h"
#include "../vmmgr/compute/instance.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: seed STATE_DIR COUNT\n");
        return 2;
    }
    vm_error err = { 0 };
    vm_ctx *ctx = vm_ctx_new(argv[1], getenv("VMMGR_LIBVIRT_URI"), &err);
    char ami[VM_ID_MAX];
    if (!ctx || img_find_by_name(ctx, IMG_TINY_NAME, ami, &err) != 1) {
        fprintf(stderr, "seed: %s\n", err.msg[0] ? err.msg : "run vmmgr init first");
        return 1;
    }
    int n = atoi(argv[2]);
    for (int i = 0; i < n; i++) {
        char rid[VM_ID_MAX], id[VM_ID_MAX], disk[4096], console[4096];
        vm_id_new("r", rid);
        vm_id_new("i", id);
        snprintf(disk, sizeof(disk), "%s/instances/%s/root.qcow2", ctx->state_dir, id);
        snprintf(console, sizeof(console), "%s/instances/%s/console.log", ctx->state_dir, id);
        sqlite3_stmt *r = NULL, *s = NULL;
        vm_db_prepare(ctx->db, "INSERT INTO reservations (id, request, created_at) VALUES (?, '', strftime('%s','now'))",
                      &r, &err);
        vm_db_prepare(ctx->db,
                      "INSERT INTO instances (id, reservation_id, image_id, instance_type, launch_index, state, "
                      "launch_step, launched_at, changed_at, disk_path, console_path) VALUES "
                      "(?, ?, ?, 't3.nano', 0, ?, 3, strftime('%s','now'), strftime('%s','now'), ?, ?)",
                      &s, &err);
        sqlite3_bind_text(r, 1, rid, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, rid, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, ami, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, INST_STOPPED);
        sqlite3_bind_text(s, 5, disk, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, console, -1, SQLITE_STATIC);
        if (sqlite3_step(r) != SQLITE_DONE || sqlite3_step(s) != SQLITE_DONE) {
            fprintf(stderr, "seed: %s\n", sqlite3_errmsg(ctx->db));
            return 1;
        }
        sqlite3_finalize(r);
        sqlite3_finalize(s);
        inst_obj *in = NULL;
        vm_tag tag = { "Name", "bench" };
        if (inst_get(ctx, id, &in, &err) < 0 || inst_define(ctx, in, &err) < 0 || vm_tags_put(ctx, id, &tag, 1, &err) < 0) {
            fprintf(stderr, "seed: %s\n", err.msg);
            return 1;
        }
        inst_obj_free(in);
    }
    vm_ctx_free(ctx);
    return 0;
}
