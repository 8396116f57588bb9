/* A response document as JSON, in two styles: the CLI's (`aws … --output json`: indented, times as
 * ISO 8601 text, console output as text) and the wire's of the AWS JSON 1.0 protocol (compact,
 * times as epoch seconds, blobs base64-encoded).  Keys are the nodes' JSON (botocore) names. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "node.h"

typedef struct vm_json_style {
    int indent;       /* spaces per level; 0 writes everything on one line */
    bool epoch_times; /* VM_NODE_TIME as a number of seconds, not "…T…+00:00" */
    bool base64;      /* VM_NODE_BASE64 encoded, as the wire carries it */
} vm_json_style;

extern const vm_json_style vm_json_cli, vm_json_wire;

/* s as a JSON string, quoted and escaped (control characters as \u00XX). */
void vm_json_string(FILE *f, const char *s);
/* One value: a struct is an object of its children, a list an array. depth is the current level. */
void vm_json_value(FILE *f, const vm_node *n, const vm_json_style *st, int depth);
/* The object of n's children (the whole answer when n is a response's root). */
void vm_json_members(FILE *f, const vm_node *n, const vm_json_style *st, int depth);
/* Into a new string (free()); NULL when out of memory. */
char *vm_json_members_string(const vm_node *n, const vm_json_style *st, size_t *ret_len);
