/* libFuzzer target for what the HTTP API parses before anything is trusted: the form decoder
 * (body and query string), the JSON 1.0 decoder (the same body as JSON) and the SigV4 Authorization
 * parser/verifier; and for what it writes back with untrusted text in it: the answers and errors of
 * every protocol (api/protocol.h), which must always be well-formed XML or JSON.  The input is split at the first NUL: the part before is the
 * Authorization header and X-Amz-Date line, the rest the body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libxml/parser.h>

#include "../../vmmgr/api/protocol.h"
#include "../../vmmgr/api/query.h"
#include "../../vmmgr/api/sigv4.h"

static const svc_desc fuzz_svc = {
    .signing_name = "fuzz",
    .version = "2011-01-01",
    .xmlns = "https://fuzz.example/doc/2011-01-01/",
    .protocol = SVC_PROTO_QUERY,
    .json_target = "FuzzService20110101",
    .json_namespace = "com.example.fuzz",
};

static void
must_parse(const api_protocol *proto, char *out, size_t len)
{
    if (!out)
        return;
    if (proto == &api_protocol_json) {
        json_tokener *tok = json_tokener_new();
        json_object *o = json_tokener_parse_ex(tok, out, (int)len);
        if (!o || json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))
            abort(); /* a writer produced JSON no client can read */
        json_object_put(o);
        json_tokener_free(tok);
        free(out);
        return;
    }
    xmlDocPtr doc = xmlReadMemory(out, (int)len, "answer.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        abort(); /* a writer produced a document no client can read */
    xmlFreeDoc(doc);
    free(out);
}

/* Every protocol's answer and error, with the decoded request's text in them. */
static void
write_back(const char *body, size_t blen)
{
    api_header h[] = { { "X-Amz-Target", "FuzzService20110101.DescribeThings" } };
    api_request req = { .method = "POST", .path = "/", .query = "", .headers = h, .nheaders = 1,
                        .body = (const unsigned char *)body, .body_len = blen };
    char action[64], version[32];
    vm_params *args = vm_params_new();
    vm_error err = { 0 };
    /* the body as JSON first (its members flattened into args), then as a form */
    if (api_protocol_json.decode(&req, &fuzz_svc, action, version, args, &err) < 0) {
        vm_params_free(args);
        args = vm_params_new();
        err = (vm_error){ 0 };
        if (api_protocol_form_decode(&req, &fuzz_svc, action, version, args, &err) < 0)
            snprintf(action, sizeof(action), "Describe");
    }
    const char *text = args->n ? args->v[0].value : err.msg;
    const api_protocol *protos[] = { &api_protocol_ec2, &api_protocol_query, &api_protocol_json };
    for (size_t i = 0; i < 3; i++) {
        vm_error e = { 0 }, ignore = { 0 };
        vm_error_set(&e, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter %s is invalid", text,
                     args->n ? args->v[0].key : action);
        char *out = NULL;
        size_t len = 0;
        if (protos[i]->encode_error(&e, &fuzz_svc, "req-1", &out, &len, &ignore) == 0)
            must_parse(protos[i], out, len);
        vm_node *root = vm_node_new_root("DescribeThings");
        vm_node *list = vm_node_list(root, "thingSet", "Things");
        for (size_t k = 0; k < args->n && k < 8; k++)
            vm_node_str(vm_node_item(list), "value", NULL, args->v[k].value);
        out = NULL;
        if (root && protos[i]->encode(root, "DescribeThings", &fuzz_svc, "req-1", &out, &len, &ignore) == 0)
            must_parse(protos[i], out, len);
        vm_node_free(root);
    }
    vm_params_free(args);
}

static char *
secret_of(void *opaque, const char *akid)
{
    (void)opaque;
    return strcmp(akid, "AKIDEXAMPLE") == 0 ? strdup("secret") : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t hlen = nul ? (size_t)(nul - data) : size;
    const char *body = nul ? (const char *)nul + 1 : "";
    size_t blen = nul ? size - hlen - 1 : 0;

    vm_params *p = vm_params_new();
    vm_error err = { 0 };
    api_form_decode(body, blen, p, &err);
    vm_params_free(p);
    write_back(body, blen);

    char *head = strndup((const char *)data, hlen);
    char *nl = strchr(head, '\n');
    const char *date = "20240102T030405Z";
    if (nl) {
        *nl = '\0';
        date = nl + 1;
    }
    api_header h[] = { { "Host", "127.0.0.1" }, { "Authorization", head }, { "X-Amz-Date", date } };
    api_request req = { .method = "POST", .path = "/", .query = "", .headers = h, .nheaders = 3,
                        .body = (const unsigned char *)body, .body_len = blen };
    char akid[API_KEY_MAX];
    vm_error e2 = { 0 };
    api_sigv4_verify(&req, "us-east-1", "ec2", 1704164645, secret_of, NULL, akid, &e2);
    free(head);
    return 0;
}
