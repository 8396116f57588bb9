/* Routing between the services of the endpoint, with a toy Query-protocol service registered only
 * here: an action reaches the service the request was signed for and no other; another Version or an
 * unknown action is that service's InvalidAction; EC2's DescribeTags and the toy's are different. */
#include <criterion/criterion.h>

#define VMMGR_SCRATCH_CTX
#include "tmpdir.h"
#include <string.h>

#include <json-c/json.h>
#include <zlib.h>

#include "../../vmmgr/api/protocol.h"
#include "../../vmmgr/services/service.h"

static int toy_calls;

static int
toy_describe_tags(vm_ctx *c, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)c, (void)principal, (void)p, (void)err;
    toy_calls++;
    vm_node_str(result, "Toy", NULL, "yes");
    return 0;
}

static const svc_action toy_actions[] = {
    { "DescribeTags", toy_describe_tags },
    { NULL, NULL },
};

static const svc_desc toy = {
    .signing_name = "toy",
    .version = "2011-01-01",
    .xmlns = "https://toy.example/doc/2011-01-01/",
    .protocol = SVC_PROTO_QUERY,
    .json_target = "Toy20110101",
    .json_namespace = "com.example.toy",
    .actions = toy_actions,
};

/* a service whose bad parameters are all ValidationError (as Auto Scaling and ELBv2): a shared
 * parser's InvalidParameterValue reaches the client as that */
static int
strict_describe_tags(vm_ctx *c, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)c, (void)principal, (void)p, (void)result;
    return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "value 'x' for parameter 'MaxRecords' is not an integer");
}

static const svc_action strict_actions[] = {
    { "DescribeTags", strict_describe_tags },
    { NULL, NULL },
};

static const svc_desc strict = {
    .signing_name = "strict",
    .version = "2011-01-01",
    .xmlns = "https://strict.example/doc/2011-01-01/",
    .protocol = SVC_PROTO_QUERY,
    .actions = strict_actions,
    .param_error = VM_ERR_VALIDATION,
};

static void
setup(void)
{
    scratch_setup();
    cr_assert_eq(svc_register(&toy), 0);
}

TestSuite(services, .init = setup, .fini = scratch_teardown);

static int
call(const svc_desc *svc, const char *action, const char *version, vm_node **resp, vm_error *err)
{
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    return svc_call(svc, ctx, "test", action, version, p, resp, err);
}

Test(services, a_request_reaches_the_service_it_was_signed_for)
{
    cr_expect_eq(svc_find("toy"), &toy);
    cr_expect_eq(svc_find("ec2"), &svc_ec2);
    cr_expect_null(svc_find("s3"));
    vm_node *r = NULL;
    vm_error err = { 0 };
    cr_assert_eq(call(&toy, "DescribeTags", "2011-01-01", &r, &err), 0, "%s", err.msg);
    cr_expect_eq(toy_calls, 1);
    cr_expect_not_null(vm_node_child(r, "Toy"), "the toy's own answer");
    vm_node_free(r);
    vm_error e2 = { 0 };
    cr_assert_eq(call(&svc_ec2, "DescribeTags", "2016-11-15", &r, &e2), 0, "%s", e2.msg);
    cr_expect_eq(toy_calls, 1, "EC2's DescribeTags is EC2's");
    cr_expect_not_null(vm_node_child(r, "tagSet"));
    vm_node_free(r);
}

Test(services, another_services_action_or_version_is_invalid_action)
{
    vm_node *r = NULL;
    vm_error e1 = { 0 }, e2 = { 0 }, e3 = { 0 };
    cr_expect_eq(call(&toy, "RunInstances", "2011-01-01", &r, &e1), -1, "signed for toy, EC2's action");
    cr_expect_str_eq(vm_error_code_name(e1.code), "InvalidAction");
    cr_expect_eq(call(&toy, "DescribeTags", "2016-11-15", &r, &e2), -1, "EC2's version");
    cr_expect_str_eq(vm_error_code_name(e2.code), "InvalidAction");
    cr_expect_eq(call(&toy, "DescribeTags", "", &r, &e3), -1, "no version");
    cr_expect_str_eq(vm_error_code_name(e3.code), "InvalidAction");
    cr_expect_eq(toy_calls, 0);
}

/* --- AWS JSON 1.0 (api/protocol_json.c) --------------------------------------------------------- */

static api_request
json_request(const char *target, const void *body, size_t len, api_header *h)
{
    h[0] = (api_header){ "X-Amz-Target", target };
    h[1] = (api_header){ "Content-Type", "application/x-amz-json-1.0" };
    return (api_request){ .method = "POST", .path = "/", .query = "", .headers = h, .nheaders = 2,
                          .body = body, .body_len = len };
}

Test(services, a_json_request_is_routed_on_its_target_and_flattened_into_query_names)
{
    api_header h[3];
    const char *body = "{\"Namespace\":\"App\",\"MetricData\":[{\"MetricName\":\"Load\",\"Value\":1.50,"
                       "\"Timestamp\":1733337600,\"Dimensions\":[{\"Name\":\"Host\",\"Value\":\"a\"}]},"
                       "{\"MetricName\":\"Up\",\"StorageResolution\":1,\"Flag\":true,\"Skip\":null}]}";
    api_request req = json_request("Toy20110101.DescribeTags", body, strlen(body), h);
    cr_assert_eq(api_protocol_for(&toy, &req), &api_protocol_json, "X-Amz-Target picks JSON");
    cr_assert_eq(api_protocol_for(&svc_ec2, &req), &api_protocol_ec2, "EC2 speaks no JSON");
    char action[64], version[32];
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    vm_error err = { 0 };
    cr_assert_eq(api_protocol_json.decode(&req, &toy, action, version, p, &err), 0, "%s", err.msg);
    cr_expect_str_eq(action, "DescribeTags");
    cr_expect_str_eq(version, "2011-01-01", "the service's version: JSON does not send one");
    cr_expect_str_eq(vm_params_get(p, "Namespace"), "App");
    cr_expect_str_eq(vm_params_get(p, "MetricData.member.1.MetricName"), "Load");
    cr_expect_str_eq(vm_params_get(p, "MetricData.member.1.Value"), "1.50", "a number keeps its text");
    cr_expect_str_eq(vm_params_get(p, "MetricData.member.1.Timestamp"), "1733337600");
    cr_expect_str_eq(vm_params_get(p, "MetricData.member.1.Dimensions.member.1.Value"), "a");
    cr_expect_str_eq(vm_params_get(p, "MetricData.member.2.Flag"), "true");
    cr_expect_null(vm_params_get(p, "MetricData.member.2.Skip"), "null is absent");
    cr_expect_eq(p->n, 9);
}

Test(services, a_gzip_json_body_is_inflated)
{
    const char *json = "{\"Namespace\":\"Zipped\"}";
    unsigned char gz[256];
    z_stream z = { .next_in = (unsigned char *)json, .avail_in = (uInt)strlen(json), .next_out = gz,
                   .avail_out = sizeof(gz) };
    cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof(gz) - z.avail_out;
    deflateEnd(&z);
    api_header h[3];
    api_request req = json_request("Toy20110101.DescribeTags", gz, n, h);
    h[2] = (api_header){ "Content-Encoding", "gzip" };
    req.nheaders = 3;
    char action[64], version[32];
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    vm_error err = { 0 };
    cr_assert_eq(api_protocol_json.decode(&req, &toy, action, version, p, &err), 0, "%s", err.msg);
    cr_expect_str_eq(vm_params_get(p, "Namespace"), "Zipped");
    /* the same bytes without the header are not JSON */
    req.nheaders = 2;
    vm_error e2 = { 0 };
    _cleanup_(vm_params_freep) vm_params *p2 = vm_params_new();
    cr_expect_eq(api_protocol_json.decode(&req, &toy, action, version, p2, &e2), -1);
    cr_expect_str_eq(vm_error_code_name(e2.code), "InvalidParameterValue");
}

Test(services, bad_json_requests_are_refused_with_a_clear_error)
{
    struct {
        const char *target, *body, *code;
    } bad[] = {
        { "Other20110101.DescribeTags", "{}", "InvalidAction" },
        { "Toy20110101", "{}", "InvalidAction" },
        { "Toy20110101.", "{}", "InvalidAction" },
        { "Toy20110101.DescribeTags", "{\"a\":", "InvalidParameterValue" },
        { "Toy20110101.DescribeTags", "[1,2]", "InvalidParameterValue" },
        { "Toy20110101.DescribeTags", "{} {}", "InvalidParameterValue" },
        { "Toy20110101.DescribeTags", "\"text\"", "InvalidParameterValue" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        api_header h[3];
        api_request req = json_request(bad[i].target, bad[i].body, strlen(bad[i].body), h);
        char action[64], version[32];
        _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
        vm_error err = { 0 };
        cr_expect_eq(api_protocol_json.decode(&req, &toy, action, version, p, &err), -1, "%s", bad[i].body);
        cr_expect_str_eq(vm_error_code_name(err.code), bad[i].code, "%s %s: %s", bad[i].target, bad[i].body,
                         err.msg);
    }
}

Test(services, json_answers_and_errors_are_what_botocore_reads)
{
    vm_node *root = vm_node_new_root("DescribeTags");
    vm_node_str(root, "Label", NULL, "cpu \"quoted\"\n");
    vm_node *list = vm_node_list(root, "Datapoints", NULL);
    vm_node *dp = vm_node_item(list);
    vm_node_time(dp, "Timestamp", NULL, 1733337600);
    vm_node_int(dp, "SampleCount", NULL, 3);
    vm_node_bool(dp, "Up", NULL, true);
    vm_node_base64(root, "Output", NULL, "hi");
    char *out = NULL;
    size_t len = 0;
    vm_error err = { 0 };
    cr_assert_eq(api_protocol_json.encode(root, "DescribeTags", &toy, "req-1", &out, &len, &err), 0);
    vm_node_free(root);
    cr_expect_str_eq(out, "{\"Label\":\"cpu \\\"quoted\\\"\\n\",\"Datapoints\":[{\"Timestamp\":1733337600,"
                          "\"SampleCount\":3,\"Up\":true}],\"Output\":\"aGk=\"}");
    free(out);

    vm_error e = { 0 };
    vm_error_set(&e, VM_ERR_INVALID_PARAMETER_VALUE, "bad \x01 value");
    cr_assert_eq(api_protocol_json.encode_error(&e, &toy, "req-1", &out, &len, &err), 0);
    json_object *o = json_tokener_parse(out);
    cr_assert_not_null(o, "the error is JSON: %s", out);
    json_object *type, *msg;
    cr_expect(json_object_object_get_ex(o, "__type", &type));
    cr_expect_str_eq(json_object_get_string(type), "com.example.toy#InvalidParameterValue");
    cr_expect(json_object_object_get_ex(o, "message", &msg));
    cr_expect_str_eq(json_object_get_string(msg), "bad \x01 value");
    json_object_put(o);
    free(out);
    cr_expect(api_protocol_json.query_error_header);
}

Test(services, a_service_gives_bad_parameters_its_own_code)
{
    vm_node *r = NULL;
    vm_error err = { 0 };
    cr_expect_eq(call(&strict, "DescribeTags", "2011-01-01", &r, &err), -1);
    cr_expect_str_eq(vm_error_code_name(err.code), "ValidationError");
    cr_expect(strstr(err.msg, "MaxRecords") != NULL, "the parser's message stays: %s", err.msg);
    /* Auto Scaling and ELBv2 say ValidationError; CloudWatch and EC2 keep InvalidParameterValue */
    cr_expect_eq(svc_autoscaling.param_error, VM_ERR_VALIDATION);
    cr_expect_eq(svc_elbv2.param_error, VM_ERR_VALIDATION);
    cr_expect_eq(svc_cloudwatch.param_error, 0);
}
