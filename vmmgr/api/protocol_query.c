/* The AWS Query protocol (Auto Scaling, ELBv2, STS, CloudWatch's older clients) and the form
 * decoding EC2's variant shares. */
#include <stdio.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/node_xml.h"
#include "protocol.h"
#include "query.h"

int
api_protocol_form_decode(const api_request *req, const svc_desc *svc, char action[64], char version[32],
                         vm_params *args, vm_error *err)
{
    (void)svc;
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    if (!p)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (api_form_decode(req->query, strlen(req->query), p, err) < 0 ||
        (req->body_len && api_form_decode((const char *)req->body, req->body_len, p, err) < 0))
        return -1;
    const char *a = vm_params_get(p, "Action"), *v = vm_params_get(p, "Version");
    if (!a || !*a)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter Action");
    if (strlen(a) >= 64)
        return vm_error_set(err, VM_ERR_INVALID_ACTION, "The action is not valid for this web service");
    snprintf(action, 64, "%s", a);
    snprintf(version, 32, "%s", v ? v : "");
    /* the protocol's own parameters are not the action's */
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].key, "Action") != 0 && strcmp(p->v[i].key, "Version") != 0 &&
            vm_params_set(args, p->v[i].key, p->v[i].value) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

static int
encode(const vm_node *resp, const char *action, const svc_desc *svc, const char *request_id, char **out, size_t *len,
       vm_error *err)
{
    return vm_node_to_query_xml(resp, action, svc->xmlns, request_id, out, len, err);
}

static int
encode_error(const vm_error *e, const svc_desc *svc, const char *request_id, char **out, size_t *len, vm_error *err)
{
    return vm_error_to_query_xml(e, svc->xmlns, request_id, out, len, err);
}

const api_protocol api_protocol_query = {
    .decode = api_protocol_form_decode,
    .encode = encode,
    .encode_error = encode_error,
    .content_type = "text/xml;charset=UTF-8",
};

const api_protocol *
api_protocol_for(const svc_desc *svc, const api_request *req)
{
    if (svc->json_target && req && api_request_header(req, "X-Amz-Target"))
        return &api_protocol_json;
    return svc->protocol == SVC_PROTO_QUERY ? &api_protocol_query : &api_protocol_ec2;
}
