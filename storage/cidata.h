/* The NoCloud config drive: an ISO 9660 image labelled "cidata" (Rock Ridge and Joliet names)
 * holding meta-data, user-data and, when given, network-config — what both the tiny image and
 * stock cloud-init read.  Built in-process with libisofs. */
#pragma once

#include <stddef.h>

#include "../vmmgr/core/error.h"

typedef struct cidata_file {
    const char *name;
    const void *data;
    size_t len;
} cidata_file;

/* Writes the ISO with files to path (through path.part, renamed at the end: never half a drive). */
int cidata_write(const char *path, const cidata_file *files, size_t nfiles, vm_error *err);
