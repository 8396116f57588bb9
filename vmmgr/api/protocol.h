/* The wire protocols of the endpoint, one file each: how a request names its action and carries its
 * parameters, and how its answer and its errors are written.  A service's descriptor names its
 * protocol (services/service.h); the HTTP adapter decodes, hands the action to the service and
 * encodes through the protocol's entry, so a third protocol (AWS JSON 1.0, which current botocore
 * speaks to CloudWatch) is one more file and one more entry.
 *
 *   protocol_query.c  the AWS Query protocol: form-encoded Action/Version and parameters;
 *                     <ActionResponse><ActionResult>, <member> lists, <ErrorResponse>
 *   protocol_ec2.c    EC2's variant of it: <ActionResponse><requestId>, <item> lists, <Response><Errors>
 *   protocol_json.c   AWS JSON 1.0: X-Amz-Target names the action, JSON bodies both ways */
#pragma once

#include <stddef.h>

#include "../core/node.h"
#include "../core/params.h"
#include "../services/service.h"
#include "sigv4.h"

typedef struct api_protocol {
    /* The action, the API version the request names ("" when none) and the action's parameters
     * (the protocol's own, such as Action and Version, left out) from the request. */
    int (*decode)(const api_request *req, const svc_desc *svc, char action[64], char version[32], vm_params *args,
                  vm_error *err);
    /* The answer of action (resp, the service's result) as the protocol writes it; owned by the caller. */
    int (*encode)(const vm_node *resp, const char *action, const svc_desc *svc, const char *request_id, char **out,
                  size_t *len, vm_error *err);
    /* An error in the protocol's shape. */
    int (*encode_error)(const vm_error *e, const svc_desc *svc, const char *request_id, char **out, size_t *len,
                        vm_error *err);
    const char *content_type;
    bool query_error_header; /* an error also says x-amzn-query-error: <Code>;Sender|Receiver */
} api_protocol;

/* The protocol of a request to svc: JSON 1.0 when it names an X-Amz-Target and svc speaks JSON,
 * otherwise the service's form protocol. */
const api_protocol *api_protocol_for(const svc_desc *svc, const api_request *req);

/* Shared by the form-encoded protocols: the query string and body as parameters, Action and Version
 * taken out. */
int api_protocol_form_decode(const api_request *req, const svc_desc *svc, char action[64], char version[32],
                             vm_params *args, vm_error *err);

extern const api_protocol api_protocol_ec2, api_protocol_query, api_protocol_json;
