/* Shared by the files of metrics/ only. */
#pragma once

#include <stddef.h>

#include "metrics.h"

/* The dimension set as stored: sorted by name, each name and value as "<length>:<bytes>" (malloc'd,
 * NULL when out of memory). */
char *metrics_dims_encode(const metric_key *m);

/* Splits a stored set into dims whose strings are copied, NUL-ended, into out (room for
 * strlen(text) + 2 * METRIC_DIMS_MAX + 1 bytes).  The number of dimensions. */
size_t metrics_dims_decode(const char *text, char *out, metric_dim *dims);
