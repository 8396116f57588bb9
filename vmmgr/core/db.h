/* The state store: SQLite in WAL mode with foreign keys, migrated to the newest schema on open.
 * Writers take the write lock at BEGIN (IMMEDIATE), so two processes (CLI and daemon) serialise
 * instead of failing half-way; a busy store waits up to ten seconds. */
#pragma once

#include <sqlite3.h>

#include "cleanup.h"
#include "error.h"

VM_DEFINE_CLEANUP(sqlite3_stmt *, sqlite3_finalize)
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)

/* Opens (creating) the store at path and applies pending migrations.  NULL on failure. */
sqlite3 *vm_db_open(const char *path, vm_error *err);
void vm_db_close(sqlite3 *db);

int vm_db_exec(sqlite3 *db, const char *sql, vm_error *err);
int vm_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret, vm_error *err);
/* Reports the store's last error as InternalError (or ServiceUnavailable when busy). */
int vm_db_error(sqlite3 *db, const char *what, vm_error *err);

/* The prepare-and-bind ladder in one call, every bind checked: sql's parameters, in order, from the
 * arguments that fmt names, one letter each:
 *   t  const char * (NULL binds NULL; copied, so it need not outlive the statement)
 *   i  long long
 *   d  double
 * A bind that fails, or a fmt that does not give sql's parameter count, is an internal error. */
int vm_db_stmt(sqlite3 *db, sqlite3_stmt **ret, vm_error *err, const char *sql, const char *fmt, ...);
/* Binds all of st's parameters, in order, as vm_db_stmt does: for a statement prepared elsewhere (the
 * context's cache) or bound again after sqlite3_reset. */
int vm_db_bind(sqlite3_stmt *st, vm_error *err, const char *fmt, ...);
/* Binds st's n parameters to the strings of v, in order (a NULL string binds NULL), every bind checked. */
int vm_db_bind_texts(sqlite3_stmt *st, vm_error *err, const char *const *v, size_t n);
/* The same for a statement that returns no row, stepped once: the rows it changed, or -1. */
int vm_db_run(sqlite3 *db, vm_error *err, const char *sql, const char *fmt, ...);

int vm_db_begin(sqlite3 *db, vm_error *err);
int vm_db_commit(sqlite3 *db, vm_error *err);
void vm_db_rollback(sqlite3 *db);

/* sqlite3_column_text as const char *, "" for NULL. */
const char *vm_db_text(sqlite3_stmt *st, int col);

/* Schema version after migration (for tests). */
int vm_db_schema_version(sqlite3 *db);
