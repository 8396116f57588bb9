/* libFuzzer target for what the HTTP API parses before anything is trusted: the form decoder
 * (body and query string) and the SigV4 Authorization parser/verifier.  The input is split at the
 * first NUL: the part before is the Authorization header and X-Amz-Date line, the rest the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmmgr/api/query.h"
#include "../../vmmgr/api/sigv4.h"

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
