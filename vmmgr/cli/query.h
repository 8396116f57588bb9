/* `--query`: the part of JMESPath people use with the aws CLI — field names, [N] indexes and []
 * projections (flattening), e.g. `Reservations[].Instances[].InstanceId`, `Instances[0].State.Name`,
 * `KeyMaterial` — applied to the response document by its JSON names. */
#pragma once

#include <stdio.h>

#include "../core/error.h"
#include "../core/node.h"
#include "render.h"

/* Evaluates expr on root and prints the result in fmt.  Unsupported syntax: InvalidParameterValue. */
int cli_query_render(FILE *f, const vm_node *root, const char *expr, cli_output fmt, vm_error *err);
