/* How the CLI shows a response document: JSON with the keys and nesting of `aws … --output
 * json`, a readable table (the default), or tab-separated text in the manner of `--output text`. */
#pragma once

#include <stdio.h>

#include "../core/node.h"

typedef enum cli_output { CLI_OUTPUT_TABLE, CLI_OUTPUT_JSON, CLI_OUTPUT_TEXT, CLI_OUTPUT__LAST } cli_output;

/* The format called name, or -1. */
int cli_output_from_string(const char *name);
void cli_render(FILE *f, const vm_node *root, cli_output fmt);
/* One value (a scalar, structure or list) or several (a projection), as --query prints them. */
void cli_render_value(FILE *f, const vm_node *n, cli_output fmt);
void cli_render_values(FILE *f, const vm_node *const *v, size_t n, cli_output fmt);
