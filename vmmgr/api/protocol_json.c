/* The AWS JSON 1.0 protocol, which current botocore speaks to CloudWatch: the action in
 * X-Amz-Target ("<TargetPrefix>.<Action>"), the input as one JSON object in the body (gzip when
 * Content-Encoding says so), the output shape as a JSON object, and errors as
 * {"__type": "<namespace>#<Code>", "message": …} with x-amzn-query-error: <Code>;Sender|Receiver
 * (the services here speak the Query protocol too, so their clients read the Query code from it).
 *
 * The body's members are flattened into the Query protocol's names (Struct.Member, List.member.N,
 * values as text), so an action parses one form whichever protocol carried it. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../core/cleanup.h"
#include "../core/node_json.h"
#include "http.h"
#include "protocol.h"
#include "query.h"

/* A decompressed body is bounded too: gzip of zeros shrinks a thousandfold. */
#define JSON_MAX_INFLATED (8 * API_MAX_BODY)

static int
gunzip(const unsigned char *in, size_t n, unsigned char **ret, size_t *ret_len, vm_error *err)
{
    z_stream z = { .next_in = (unsigned char *)in, .avail_in = (uInt)n };
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    size_t cap = n * 4 + 1024, len = 0;
    unsigned char *out = malloc(cap);
    int rc = Z_OK;
    while (out && rc == Z_OK) {
        if (len == cap) {
            unsigned char *bigger = cap < JSON_MAX_INFLATED ? realloc(out, cap * 2) : NULL;
            if (!bigger)
                break;
            out = bigger;
            cap *= 2;
        }
        z.next_out = out + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        if (rc == Z_OK)
            return vm_error_set(err, VM_ERR_TOO_LARGE, "the request body inflates to more than %d bytes",
                                JSON_MAX_INFLATED);
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "the request body is not valid gzip, as its Content-Encoding says");
    }
    *ret = out;
    *ret_len = len;
    return 0;
}

/* v under the Query name in key[0..len) (Struct.Member, List.member.N) into args. */
static int
flatten(json_object *v, char *key, size_t len, size_t cap, vm_params *args, vm_error *err)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return 0;
    case json_type_object: {
        json_object_object_foreach(v, name, child) {
            if (!api_utf8_valid((const unsigned char *)name, strlen(name)))
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "a member name is not valid UTF-8");
            int n = snprintf(key + len, cap - len, "%s%s", len ? "." : "", name);
            if (n < 0 || (size_t)n >= cap - len)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "a member name of the request is too long");
            if (flatten(child, key, len + (size_t)n, cap, args, err) < 0)
                return -1;
        }
        key[len] = '\0';
        return 0;
    }
    case json_type_array: {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            int n = snprintf(key + len, cap - len, ".member.%zu", i + 1);
            if (n < 0 || (size_t)n >= cap - len)
                return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "a member name of the request is too long");
            if (flatten(json_object_array_get_idx(v, i), key, len + (size_t)n, cap, args, err) < 0)
                return -1;
        }
        key[len] = '\0';
        return 0;
    }
    case json_type_boolean:
    case json_type_double:
    case json_type_int:
    case json_type_string:
        if (!len)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "the request body must be a JSON object");
        /* a number keeps the text it was sent as (json-c keeps a double's); a boolean is true/false;
         * a \\u escape may have made what is not UTF-8 (a lone surrogate) */
        if (!api_utf8_valid((const unsigned char *)json_object_get_string(v), strlen(json_object_get_string(v))))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "the value of %s is not valid UTF-8", key);
        return vm_params_set(args, key, json_object_get_string(v)) < 0
                   ? vm_error_set(err, VM_ERR_INTERNAL, "out of memory")
                   : 0;
    }
    return 0;
}

static int
decode(const api_request *req, const svc_desc *svc, char action[64], char version[32], vm_params *args,
       vm_error *err)
{
    const char *target = api_request_header(req, "X-Amz-Target");
    size_t plen = svc->json_target ? strlen(svc->json_target) : 0;
    if (!target || !plen || strncmp(target, svc->json_target, plen) != 0 || target[plen] != '.' ||
        !target[plen + 1] || strlen(target + plen + 1) >= 64)
        return vm_error_set(err, VM_ERR_INVALID_ACTION, "The X-Amz-Target '%s' names no operation of this service",
                            target ? target : "");
    snprintf(action, 64, "%s", target + plen + 1);
    snprintf(version, 32, "%s", svc->version);

    const unsigned char *body = req->body;
    size_t n = req->body_len;
    _cleanup_free_ unsigned char *inflated = NULL;
    const char *enc = api_request_header(req, "Content-Encoding");
    if (enc && strstr(enc, "gzip")) {
        if (gunzip(body, n, &inflated, &n, err) < 0)
            return -1;
        body = inflated;
    }
    if (n == 0)
        return 0;
    if (!api_utf8_valid(body, n))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "the request body is not valid UTF-8");
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    json_object *root = json_tokener_parse_ex(tok, (const char *)body, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int rc;
    if (!root || jerr != json_tokener_success) {
        rc = vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "the request body is not JSON: %s",
                          json_tokener_error_desc(jerr == json_tokener_success ? json_tokener_continue : jerr));
    } else if (used < n && strspn((const char *)body + used, " \t\r\n") != n - used) {
        rc = vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "the request body has more than one JSON value");
    } else if (!json_object_is_type(root, json_type_object)) {
        rc = vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "the request body must be a JSON object");
    } else {
        char key[1024] = "";
        rc = flatten(root, key, 0, sizeof(key), args, err);
    }
    json_object_put(root);
    return rc;
}

static int
encode(const vm_node *resp, const char *action, const svc_desc *svc, const char *request_id, char **out, size_t *len,
       vm_error *err)
{
    (void)action, (void)svc, (void)request_id; /* the request id is a header (x-amzn-RequestId) */
    if (!(*out = vm_json_members_string(resp, &vm_json_wire, len)))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

static int
encode_error(const vm_error *e, const svc_desc *svc, const char *request_id, char **out, size_t *len, vm_error *err)
{
    (void)request_id;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    char type[192];
    snprintf(type, sizeof(type), "%s#%s", svc->json_namespace ? svc->json_namespace : svc->signing_name,
             vm_error_code_name(e->code));
    fputs("{\"__type\":", f);
    vm_json_string(f, type);
    fputs(",\"message\":", f);
    vm_json_string(f, e->msg);
    fputc('}', f);
    if (fclose(f) != 0) {
        free(buf);
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    }
    *out = buf;
    *len = n;
    return 0;
}

const api_protocol api_protocol_json = {
    .decode = decode,
    .encode = encode,
    .encode_error = encode_error,
    .content_type = "application/x-amz-json-1.0",
    .query_error_header = true,
};
