/* The manual page and the bash completion, generated from the command table (commands.c) at build
 * time, so that they cannot drift from what the CLI accepts. */
#pragma once

#include <stdio.h>

#include "../core/ctx.h"

/* vmmgr(1) in troff (man(7) macros). */
void cli_docs_man(FILE *f);
/* A bash completion script for vmmgr: commands, their options, waiters, --output values, and ids
 * from the store for the id options (through `vmmgr _ids OPTION`). */
void cli_docs_bash(FILE *f);
/* Prints the ids (or names) that the option takes, one per line, from the store of ctx: what
 * `vmmgr _ids instance-ids` answers to the completion.  Returns 0, or -1 for an option without ids. */
int cli_docs_ids(vm_ctx *ctx, const char *option, FILE *f);
