/* The EC2 Query protocol's form encoding: `k=v&k2=v2`, '+' for space, %XX escapes, as botocore
 * sends it (urlencode with doseq).  Decoded keys and values must be UTF-8 without NUL; a key given
 * twice is refused rather than silently resolved. */
#pragma once

#include <stdbool.h>

#include <stddef.h>

#include "../core/params.h"

#define API_MAX_PARAMS 4096

/* Decodes text (len bytes, not necessarily NUL-terminated) into out.  Malformed input is a
 * MalformedQueryString error and leaves out unchanged. */
int api_form_decode(const char *text, size_t len, vm_params *out, vm_error *err);
/* Percent-decodes [s, s+len) ('+' is a space when plus is true) into a new string. */
char *api_url_decode(const char *s, size_t len, bool plus, vm_error *err);
/* URI-encodes s the way SigV4 canonicalises: everything but A-Z a-z 0-9 - _ . ~ (and '/' when
 * keep_slash) as %XX with upper-case hex.  Owned result. */
char *api_uri_encode(const char *s, bool keep_slash);

/* Whether p[0..n) is UTF-8 (what every decoder asks of a request before it trusts its text). */
bool api_utf8_valid(const unsigned char *p, size_t n);
