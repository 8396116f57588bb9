/* EC2-shaped resource ids: a prefix, '-', and 17 lower-case hex digits from libuuid. */
#pragma once

#include <stdbool.h>

#define VM_ID_MAX 32

/* Writes "<prefix>-<17 hex>" into buf (VM_ID_MAX bytes). */
void vm_id_new(const char *prefix, char buf[VM_ID_MAX]);
/* True when s is "<prefix>-" followed by 8 to 17 lower-case hex digits, nothing else.  Every id
 * that reaches a path, a domain name or SQL passes this first. */
bool vm_id_valid(const char *s, const char *prefix);
