#include <criterion/criterion.h>

#define VMMGR_SCRATCH_CTX
#include "tmpdir.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "../../vmmgr/compute/instance.h"
#include "../../vmmgr/compute/types.h"
#include "../../vmmgr/core/ctx.h"
#include "../../vmmgr/core/db.h"
#include "../../vmmgr/core/tags.h"

TestSuite(store, .init = scratch_setup, .fini = scratch_teardown);

Test(store, migrates_to_newest_schema_in_wal_mode)
{
    cr_expect_eq(vm_db_schema_version(ctx->db), 30);
    sqlite3_stmt *st = NULL;
    vm_error err = { 0 };
    cr_assert_eq(vm_db_prepare(ctx->db, "PRAGMA journal_mode", &st, &err), 0);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_str_eq(vm_db_text(st, 0), "wal");
    sqlite3_finalize(st);
    cr_assert_eq(vm_db_prepare(ctx->db, "PRAGMA foreign_keys", &st, &err), 0);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
}

Test(store, config_round_trips_and_marks_init)
{
    vm_error err = { 0 };
    cr_expect_not(vm_ctx_initialized(ctx));
    cr_assert_eq(vm_config_set(ctx, "accel", "tcg", &err), 0);
    cr_expect(vm_ctx_initialized(ctx));
    cr_expect_str_eq(ctx->accel, "tcg");
    char *v = vm_config_get(ctx, "accel");
    cr_expect_str_eq(v, "tcg");
    free(v);
    cr_expect_null(vm_config_get(ctx, "nothing"));
}

Test(store, tags_match_by_key_value_and_pattern)
{
    vm_error err = { 0 };
    vm_tag tags[] = { { "Name", "web-1" }, { "env", "prod" } };
    cr_assert_eq(vm_tags_put(ctx, "i-0123456789abcdef0", tags, 2, &err), 0, "%s", err.msg);
    cr_expect_eq(vm_tags_match(ctx, "i-0123456789abcdef0", "tag:Name", (const char *[]){ "web-*", NULL }, &err), 1);
    cr_expect_eq(vm_tags_match(ctx, "i-0123456789abcdef0", "tag:Name", (const char *[]){ "db", NULL }, &err), 0);
    cr_expect_eq(vm_tags_match(ctx, "i-0123456789abcdef0", "tag-key", (const char *[]){ "env", NULL }, &err), 1);
    cr_expect_eq(vm_tags_match(ctx, "i-0123456789abcdef0", "tag:env", (const char *[]){ "prod", NULL }, &err), 1);
}

Test(store, instance_types_and_states_follow_ec2)
{
    const inst_type *t = inst_type_find("m5.xlarge");
    cr_assert_not_null(t);
    cr_expect_eq(t->vcpus, 4);
    cr_expect_eq(t->memory_mib, 16384);
    cr_expect_null(inst_type_find("x9.huge"));
    cr_expect_eq(inst_state_code(INST_RUNNING), 16);
    cr_expect_eq(inst_state_code(INST_STOPPED), 80);
    cr_expect_str_eq(inst_state_to_string(INST_SHUTTING_DOWN), "shutting-down");
    cr_expect_eq(inst_state_from_string("stopping"), INST_STOPPING);
}

Test(store, tags_refuse_control_characters_and_bad_utf8)
{
    const char *bad[] = { "a\x01", "tab\there", "\xff\xfe", "\xc3", "\xc0\xaf" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
        vm_params_set(p, "Tag.1.Key", "k");
        vm_params_set(p, "Tag.1.Value", bad[i]);
        vm_tag *tags = NULL;
        size_t n;
        vm_error err = { 0 };
        cr_expect_eq(vm_tags_parse(p, "Tag", &tags, &n, &err), -1, "value %zu accepted", i);
        cr_expect_eq(err.code, VM_ERR_INVALID_PARAMETER_VALUE);
    }
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    vm_params_set(p, "Tag.1.Key", "név");
    vm_params_set(p, "Tag.1.Value", "<ünïcödé & \"quotes\">");
    vm_tag *tags = NULL;
    size_t n;
    vm_error err = { 0 };
    cr_expect_eq(vm_tags_parse(p, "Tag", &tags, &n, &err), 0, "%s", err.msg);
    free(tags);
}

Test(store, bind_ladder_binds_checks_and_counts)
{
    vm_error err = { 0 };
    cr_assert_eq(vm_db_exec(ctx->db, "CREATE TEMP TABLE t (a TEXT, b INTEGER, c REAL)", &err), 0);
    cr_expect_eq(vm_db_run(ctx->db, &err, "INSERT INTO t VALUES (?, ?, ?)", "tid", "x", 7LL, 1.5), 1);
    cr_expect_eq(vm_db_run(ctx->db, &err, "INSERT INTO t VALUES (?, ?, ?)", "tid", (const char *)NULL, 8LL, 2.5), 1);
    /* a text bound from a buffer that changes after the call: the statement has its own copy */
    char buf[8] = "y";
    sqlite3_stmt *st = NULL;
    cr_assert_eq(vm_db_stmt(ctx->db, &st, &err, "SELECT count(*) FROM t WHERE a = ? OR a IS NULL", "t", buf), 0);
    buf[0] = 'x';
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(st, 0), 1, "only the NULL row: 'y' was bound, not the buffer");
    sqlite3_finalize(st);
    cr_expect_eq(vm_db_run(ctx->db, &err, "UPDATE t SET b = b + 1 WHERE c > ?", "d", 1.0), 2, "the rows changed");
    /* a fmt that does not give the statement's parameter count binds nothing and says so */
    vm_error bad = { 0 };
    cr_expect_eq(vm_db_run(ctx->db, &bad, "DELETE FROM t WHERE a = ? AND b = ?", "t", "x"), -1);
    cr_expect_eq(bad.code, VM_ERR_INTERNAL);
    cr_expect(strstr(bad.msg, "1 values for the 2 parameters") != NULL, "%s", bad.msg);
    vm_error bad2 = { 0 };
    st = NULL;
    cr_expect_eq(vm_db_stmt(ctx->db, &st, &bad2, "SELECT ?", "q", "x"), -1);
    cr_expect_null(st);
    cr_assert_eq(vm_db_prepare(ctx->db, "SELECT count(*) FROM t", &st, &err), 0);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(st, 0), 2, "the refused delete deleted nothing");
    sqlite3_finalize(st);
}

/* Binding again after a reset, as a loop over a prepared statement does: the same checks. */
Test(store, rebind_checks_count_and_then_steps)
{
    vm_error err = { 0 };
    cr_assert_eq(vm_db_exec(ctx->db, "CREATE TEMP TABLE u (a TEXT, b INTEGER)", &err), 0);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(vm_db_prepare(ctx->db, "INSERT INTO u VALUES (?1, ?2)", &st, &err), 0);
    const char *names[] = { "p", "q", "r" };
    for (int i = 0; i < 3; i++) {
        sqlite3_reset(st);
        cr_assert_eq(vm_db_bind(st, &err, "ti", names[i], (long long)i), 0, "%s", err.msg);
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    }
    /* one value short: refused before the step, and the loop's failure path sees -1 */
    sqlite3_reset(st);
    vm_error bad = { 0 };
    cr_expect_eq(vm_db_bind(st, &bad, "t", "s"), -1);
    cr_expect(strstr(bad.msg, "1 values for the 2 parameters") != NULL, "%s", bad.msg);
    sqlite3_finalize(st);
    /* strings from an array: the count is checked too */
    cr_assert_eq(vm_db_prepare(ctx->db, "DELETE FROM u WHERE a = ? OR a = ?", &st, &err), 0);
    vm_error bad2 = { 0 };
    cr_expect_eq(vm_db_bind_texts(st, &bad2, names, 3), -1);
    cr_expect_eq(bad2.code, VM_ERR_INTERNAL);
    cr_assert_eq(vm_db_bind_texts(st, &err, names, 2), 0);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    cr_assert_eq(vm_db_prepare(ctx->db, "SELECT group_concat(a) FROM u", &st, &err), 0);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_str_eq(vm_db_text(st, 0), "r", "p and q deleted, r kept, no 's' row");
    sqlite3_finalize(st);
}
