/* SigV4 against the known-answer vector of shared/reference/ec2-protocol.md (checked there with
 * botocore), and against requests changed in one place each. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmmgr/api/sigv4.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define BODY "Action=DescribeInstances&Version=2016-11-15"
#define SIG "d1756b6c55a1a66dc716e28a1cdaf84371f831c7997720e9976c981707ea90ac"
#define WHEN 1704164645 /* 2024-01-02T03:04:05Z */

static char *
secret_of(void *opaque, const char *akid)
{
    (void)opaque;
    return strcmp(akid, AKID) == 0 ? strdup(SECRET) : NULL;
}

typedef struct fixture {
    char auth[512];
    char date[32];
    char host[64];
    char ctype[128];
    char body[256];
    api_header h[5];
    size_t nh;
    api_request req;
} fixture;

static void
fixture_init(fixture *f)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->auth, sizeof(f->auth),
             "AWS4-HMAC-SHA256 Credential=" AKID "/20240102/us-east-1/ec2/aws4_request, "
             "SignedHeaders=content-type;host;x-amz-date, Signature=" SIG);
    strcpy(f->date, "20240102T030405Z");
    strcpy(f->host, "127.0.0.1:8773");
    strcpy(f->ctype, "application/x-www-form-urlencoded; charset=utf-8");
    strcpy(f->body, BODY);
    f->h[0] = (api_header){ "Content-Type", f->ctype };
    f->h[1] = (api_header){ "Host", f->host };
    f->h[2] = (api_header){ "X-Amz-Date", f->date };
    f->h[3] = (api_header){ "Authorization", f->auth };
    f->h[4] = (api_header){ "User-Agent", "aws-cli/2.9 unsigned" };
    f->nh = 5;
    f->req = (api_request){ .method = "POST", .path = "/", .query = "", .headers = f->h, .nheaders = f->nh,
                            .body = (const unsigned char *)f->body, .body_len = strlen(f->body) };
}

static int
verify(fixture *f, time_t now, vm_error *err)
{
    f->req.body_len = strlen(f->body);
    char akid[API_KEY_MAX];
    return api_sigv4_verify(&f->req, "us-east-1", "ec2", now, secret_of, NULL, akid, err);
}

Test(sigv4, known_answer_vector)
{
    char hash[65];
    api_sha256_hex(BODY, strlen(BODY), hash);
    cr_expect_str_eq(hash, "6171eb09865e32b0602af0f7957e26573a51f53caaedff02ff88883cb0275885");
    fixture f;
    fixture_init(&f);
    vm_error err = { 0 };
    cr_expect_eq(verify(&f, WHEN, &err), 0, "%s", err.msg);
}

static void
expect_code(fixture *f, time_t now, vm_err_code code, const char *what)
{
    vm_error err = { 0 };
    cr_expect_eq(verify(f, now, &err), -1, "%s was accepted", what);
    cr_expect_eq(err.code, code, "%s: got %s (%s)", what, vm_error_code_name(err.code), err.msg);
    cr_expect_null(strstr(err.msg, SECRET), "%s: the secret is in the message", what);
}

Test(sigv4, a_changed_body_byte_fails)
{
    fixture f;
    fixture_init(&f);
    f.body[7] = 'd';
    expect_code(&f, WHEN, VM_ERR_SIGNATURE_MISMATCH, "a changed body");
}

Test(sigv4, a_changed_signed_header_fails)
{
    fixture f;
    fixture_init(&f);
    strcpy(f.host, "127.0.0.1:8774");
    expect_code(&f, WHEN, VM_ERR_SIGNATURE_MISMATCH, "a changed Host");
    fixture_init(&f);
    strcpy(f.ctype, "application/x-www-form-urlencoded");
    expect_code(&f, WHEN, VM_ERR_SIGNATURE_MISMATCH, "a changed Content-Type");
}

Test(sigv4, an_unsigned_header_may_change)
{
    fixture f;
    fixture_init(&f);
    f.h[4].value = "something else";
    vm_error err = { 0 };
    cr_expect_eq(verify(&f, WHEN, &err), 0, "%s", err.msg);
}

Test(sigv4, region_and_service_must_be_ours)
{
    fixture f;
    fixture_init(&f);
    char *p = strstr(f.auth, "us-east-1");
    memcpy(p, "us-west-1", 9);
    expect_code(&f, WHEN, VM_ERR_SIGNATURE_MISMATCH, "another region");
    fixture_init(&f);
    p = strstr(f.auth, "/ec2/");
    memcpy(p, "/s3x/", 5);
    expect_code(&f, WHEN, VM_ERR_SIGNATURE_MISMATCH, "another service");
}

Test(sigv4, clock_skew_of_15_minutes)
{
    fixture f;
    fixture_init(&f);
    vm_error err = { 0 };
    cr_expect_eq(verify(&f, WHEN + 14 * 60, &err), 0, "14 min late: %s", err.msg);
    vm_error e2 = { 0 };
    cr_expect_eq(verify(&f, WHEN - 14 * 60, &e2), 0, "14 min early: %s", e2.msg);
    expect_code(&f, WHEN + 16 * 60, VM_ERR_REQUEST_EXPIRED, "16 min late");
    expect_code(&f, WHEN - 16 * 60, VM_ERR_REQUEST_EXPIRED, "16 min early");
}

Test(sigv4, scope_date_must_be_the_request_date)
{
    fixture f;
    fixture_init(&f);
    char *p = strstr(f.auth, "20240102");
    memcpy(p, "20240103", 8);
    expect_code(&f, WHEN, VM_ERR_SIGNATURE_MISMATCH, "a scope date other than X-Amz-Date");
}

Test(sigv4, signed_headers_must_be_present_and_include_host)
{
    fixture f;
    fixture_init(&f);
    f.h[0].name = "X-Not-Content-Type";
    expect_code(&f, WHEN, VM_ERR_INCOMPLETE_SIGNATURE, "a signed header that is absent");
    fixture_init(&f);
    char *p = strstr(f.auth, "content-type;host;x-amz-date");
    memcpy(p, "content-type;x-amz-date;x-am", 28);
    expect_code(&f, WHEN, VM_ERR_INCOMPLETE_SIGNATURE, "SignedHeaders without host");
}

Test(sigv4, unknown_key_missing_or_malformed_authorization)
{
    fixture f;
    fixture_init(&f);
    memcpy(strstr(f.auth, AKID), "AKIDEXAMPLF", 11);
    expect_code(&f, WHEN, VM_ERR_AUTH_FAILURE, "an unknown key");
    fixture_init(&f);
    f.h[3].name = "X-Authorization";
    expect_code(&f, WHEN, VM_ERR_AUTH_FAILURE, "no Authorization");
    fixture_init(&f);
    memcpy(f.auth, "AWS4-HMAC-SHA1  ", 16);
    expect_code(&f, WHEN, VM_ERR_INCOMPLETE_SIGNATURE, "another algorithm");
    fixture_init(&f);
    strcpy(strstr(f.auth, "Signature="), "Signature=");
    expect_code(&f, WHEN, VM_ERR_SIGNATURE_MISMATCH, "an empty signature");
    fixture_init(&f);
    *strstr(f.auth, ", Signature=") = '\0';
    expect_code(&f, WHEN, VM_ERR_INCOMPLETE_SIGNATURE, "no Signature");
    fixture_init(&f);
    strcpy(f.date, "2024-01-02T03:04:05Z");
    expect_code(&f, WHEN, VM_ERR_INCOMPLETE_SIGNATURE, "a malformed X-Amz-Date");
}

Test(sigv4, signing_and_verifying_agree_with_a_query_string)
{
    fixture f;
    fixture_init(&f);
    f.req.method = "GET";
    f.req.query = "Version=2016-11-15&Action=DescribeInstances&Filter.1.Value.1=a%20b";
    f.body[0] = '\0';
    char sig[65];
    vm_error err = { 0 };
    f.req.body_len = 0;
    cr_assert_eq(api_sigv4_sign(&f.req, SECRET, f.date, "20240102/us-east-1/ec2/aws4_request",
                                "content-type;host;x-amz-date", sig, &err),
                 0, "%s", err.msg);
    strcpy(strstr(f.auth, "Signature=") + 10, sig);
    cr_expect_eq(verify(&f, WHEN, &err), 0, "%s", err.msg);
    f.req.query = "Version=2016-11-15&Action=DescribeInstances&Filter.1.Value.1=a%20c";
    expect_code(&f, WHEN, VM_ERR_SIGNATURE_MISMATCH, "a changed query string");
}
