/* EC2's protocol: the Query protocol's requests, EC2's own answers (<requestId>, <item> lists) and
 * errors (<Response><Errors><Error>). */
#include "../core/node_xml.h"
#include "protocol.h"

static int
encode(const vm_node *resp, const char *action, const svc_desc *svc, const char *request_id, char **out, size_t *len,
       vm_error *err)
{
    (void)action, (void)svc;
    return vm_node_to_xml(resp, request_id, out, len, err);
}

static int
encode_error(const vm_error *e, const svc_desc *svc, const char *request_id, char **out, size_t *len, vm_error *err)
{
    (void)svc;
    return vm_error_to_xml(e, request_id, out, len, err);
}

const api_protocol api_protocol_ec2 = {
    .decode = api_protocol_form_decode,
    .encode = encode,
    .encode_error = encode_error,
    .content_type = "text/xml;charset=UTF-8",
};
