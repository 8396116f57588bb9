/* vmmgr: the command-line adapter.  argv → Query parameters → vm_dispatch → rendered response.
 * Embedded mode: it opens the state store and libvirt itself, like virsh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <unistd.h>

#include "../compute/instance.h"
#include "../../images/catalog.h"
#include "../../storage/snapshot.h"
#include "../core/cleanup.h"
#include "../services/ec2/dispatch.h"
#include "../core/audit.h"
#include "../core/keys.h"
#include "../init.h"
#include "../serve.h"
#include "../../imds/imds.h"
#include "top.h"
#include "commands.h"
#include "docs.h"
#include "query.h"
#include "../services/service.h"
#include "render.h"
#include "wait.h"

#define EXIT_USAGE 252
#define EXIT_SERVICE 254

typedef struct cli_globals {
    const char *state_dir;
    const char *uri;
    cli_output output;
    const char *query;
} cli_globals;

static void
usage(FILE *f)
{
    size_t n, nlocal;
    const cli_cmd *cmds = cli_cmds(&n), *local = cli_local_cmds(&nlocal);
    fprintf(f, "usage: vmmgr [--state-dir DIR] [--connect URI] [--output table|json|text] COMMAND [options]\n\n"
               "A private cloud that speaks EC2, over libvirt.\n\nCommands:\n");
    for (size_t i = 0; i < nlocal; i++)
        fprintf(f, "  %-30s %s\n", local[i].name, local[i].help);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-30s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "\nThe other services' commands, as the aws CLI names them:\n"
               "  vmmgr autoscaling|cloudwatch|elbv2|acm COMMAND [options]   ('vmmgr SERVICE' lists them)\n"
               "  vmmgr ec2 COMMAND [options]                                 (the EC2 commands above)\n");
    fprintf(f, "\nGlobal options:\n");
    for (const cli_opt *o = cli_global_opts; o->name; o++)
        fprintf(f, "  --%-16s %s\n", o->name, o->help);
    fprintf(f, "\n'vmmgr COMMAND --help' describes a command's options; man vmmgr describes them all.\n");
}

static void
report(const char *action, const vm_error *err)
{
    fprintf(stderr, "An error occurred (%s) when calling the %s operation: %s\n", vm_error_code_name(err->code),
            action, err->msg);
}

/* Takes the global options out of argv wherever they stand; returns the new argc or -1. */
static int
globals_take(int argc, char **argv, cli_globals *g)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--state-dir") == 0)
            dst = &g->state_dir;
        else if (strcmp(a, "--connect") == 0 || strcmp(a, "-c") == 0)
            dst = &g->uri;
        else if (strcmp(a, "--query") == 0)
            dst = &g->query;
        if (dst || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vmmgr: %s needs a value\n", a);
                return -1;
            }
            const char *v = argv[++i];
            if (dst) {
                *dst = v;
                continue;
            }
            int fmt = cli_output_from_string(v);
            if (fmt < 0) {
                fprintf(stderr, "vmmgr: --output takes table, json or text, not '%s'\n", v);
                return -1;
            }
            g->output = (cli_output)fmt;
            continue;
        }
        argv[out++] = argv[i];
    }
    return out;
}

static bool
wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "help") == 0)
            return true;
    return false;
}

static void
print_key(const char *id, const char *secret, const vm_ctx *ctx)
{
    printf("AccessKeyId      %s\nSecretAccessKey  %s\n\nThe secret is shown only now. For the aws CLI and boto3, "
           "add to ~/.aws/credentials:\n\n[vmmgr]\naws_access_key_id = %s\naws_secret_access_key = %s\n\nand use: "
           "aws --profile vmmgr --region %s ec2 --endpoint-url http://127.0.0.1:8773 describe-instances\n",
           id, secret, id, secret, ctx->region);
}

static int
cmd_keys(vm_ctx *ctx, const char *name, int argc, char **argv, cli_output out)
{
    vm_error err = { 0 };
    if (strcmp(name, "create-access-key") == 0) {
        char id[VM_KEY_ID_LEN + 1], secret[VM_KEY_SECRET_LEN + 1];
        if (vm_key_create(ctx, id, secret, &err) < 0)
            goto fail;
        if (out == CLI_OUTPUT_JSON)
            printf("{\n    \"AccessKey\": {\n        \"AccessKeyId\": \"%s\",\n        \"SecretAccessKey\": \"%s\"\n    }\n}\n",
                   id, secret);
        else
            print_key(id, secret, ctx);
        return 0;
    }
    if (strcmp(name, "delete-access-key") == 0) {
        if (argc != 2 || strcmp(argv[0], "--access-key-id") != 0) {
            fprintf(stderr, "usage: vmmgr delete-access-key --access-key-id ID\n");
            return EXIT_USAGE;
        }
        if (vm_key_delete(ctx, argv[1], &err) < 0)
            goto fail;
        return 0;
    }
    vm_node *resp = vm_node_new_root(strcmp(name, "audit") == 0 ? "Audit" : "ListAccessKeys");
    int limit = 50;
    if (strcmp(name, "audit") == 0 && argc == 2 && strcmp(argv[0], "--max-items") == 0)
        limit = atoi(argv[1]);
    int rc = strcmp(name, "audit") == 0 ? vm_audit_list(ctx, limit > 0 ? limit : 50, resp, &err)
                                        : vm_key_list(ctx, resp, &err);
    if (rc == 0)
        cli_render(stdout, resp, out);
    vm_node_free(resp);
    if (rc == 0)
        return 0;
fail:
    fprintf(stderr, "vmmgr %s: %s\n", name, err.msg);
    return EXIT_SERVICE;
}

static int
cmd_serve(vm_ctx *ctx, int argc, char **argv)
{
    vm_serve_opts o = { .listen = "127.0.0.1:8773", .workers = 4, .metrics_interval = 10 };
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            o.listen = argv[++i];
        else if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
            o.region = argv[++i];
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            o.workers = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--metrics-interval") == 0 && i + 1 < argc) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (!*argv[i] || *end || v < 0 || v > 3600) {
                fprintf(stderr, "vmmgr serve: --metrics-interval takes seconds from 0 (off) to 3600, not '%s'\n",
                        argv[i]);
                return EXIT_USAGE;
            }
            o.metrics_interval = (int)v;
        } else if (strcmp(argv[i], "--metrics-listen") == 0 && i + 1 < argc)
            o.metrics_listen = argv[++i];
        else {
            fprintf(stderr, "usage: vmmgr serve [--listen ADDR:PORT] [--region REGION] [--workers N] "
                            "[--metrics-interval SECONDS] [--metrics-listen ADDR:PORT]\n");
            return EXIT_USAGE;
        }
    }
    return vm_serve(ctx, &o);
}

static int
cmd_init(vm_ctx *ctx, int argc, char **argv)
{
    const char *accel = "auto", *vpc = getenv("VMMGR_DEFAULT_VPC_CIDR"), *zones = NULL, *uplink = NULL,
               *public_ips = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--accel") == 0 && i + 1 < argc)
            accel = argv[++i];
        else if (strcmp(argv[i], "--default-vpc-cidr") == 0 && i + 1 < argc)
            vpc = argv[++i];
        else if (strcmp(argv[i], "--availability-zones") == 0 && i + 1 < argc)
            zones = argv[++i];
        else if (strcmp(argv[i], "--uplink") == 0 && i + 1 < argc)
            uplink = argv[++i];
        else if (strcmp(argv[i], "--public-ips") == 0 && i + 1 < argc)
            public_ips = argv[++i];
        else {
            fprintf(stderr, "usage: vmmgr init [--accel auto|kvm|tcg] [--default-vpc-cidr CIDR] "
                            "[--availability-zones ZONE,ZONE…] [--uplink IFACE|none] [--public-ips FIRST-LAST|none]\n");
            return EXIT_USAGE;
        }
    }
    char warning[768], image[32];
    vm_error err = { 0 };
    if (vm_init(ctx, accel, vpc && *vpc ? vpc : NULL, zones, warning, sizeof(warning), image, &err) < 0) {
        fprintf(stderr, "vmmgr: init failed (%s): %s\n", vm_error_code_name(err.code), err.msg);
        return EXIT_SERVICE;
    }
    if (warning[0])
        fprintf(stderr, "vmmgr: warning: %s\n", warning);
    if (uplink && net_uplink_set(ctx, uplink, &err) < 0) {
        fprintf(stderr, "vmmgr: init: the uplink (%s): %s\n", vm_error_code_name(err.code), err.msg);
        return EXIT_SERVICE;
    }
    if (public_ips && net_public_ips_set(ctx, public_ips, &err) < 0) {
        fprintf(stderr, "vmmgr: init: the public addresses (%s): %s\n", vm_error_code_name(err.code), err.msg);
        return EXIT_SERVICE;
    }
    _cleanup_free_ char *up = vm_config_get(ctx, "uplink"), *pool = vm_config_get(ctx, "public_ips");
    printf("state dir    %s\nlibvirt      %s\naccelerator  %s\nimage        %s (%s)\nuplink       %s\npublic IPs   %s\n",
           ctx->state_dir, ctx->uri, ctx->accel, image, "vmmgr-tiny", up && *up ? up : "none (nothing leaves the VPCs)",
           pool && *pool ? pool : "none (no Elastic IPs)");
    if (vm_key_count(ctx) == 0) {
        char id[VM_KEY_ID_LEN + 1], secret[VM_KEY_SECRET_LEN + 1];
        if (vm_key_create(ctx, id, secret, &err) < 0) {
            fprintf(stderr, "vmmgr: init: %s\n", err.msg);
            return EXIT_SERVICE;
        }
        printf("\nA first access key for the HTTP API (vmmgr serve):\n");
        print_key(id, secret, ctx);
    }
    return 0;
}

/* A job started by a request: it holds the request's locks (inherited descriptors, listed in
 * argv[2]) until it exits; its stderr is <state-dir>/jobs.log. */
static int
cmd_job(vm_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return EXIT_USAGE;
    vm_error err = { 0 };
    int rc = -1;
    vm_trace("job %s %s", argv[0], argv[1]);
    if (strcmp(argv[0], "snapshot") == 0)
        rc = snap_finish(ctx, argv[1], false, &err);
    else if (strcmp(argv[0], "image") == 0)
        rc = inst_create_image_finish(ctx, argv[1], &err);
    else if (strcmp(argv[0], "launch") == 0 || strcmp(argv[0], "start") == 0 || strcmp(argv[0], "terminate") == 0 ||
             strcmp(argv[0], "hibernate") == 0)
        rc = inst_job(ctx, argv[0], argv[1], argv[2], &err);
    else if (strcmp(argv[0], "imds") == 0) /* the metadata service (imds/imds.h), until killed */
        rc = imds_serve(ctx, &err);
    else
        vm_error_set(&err, VM_ERR_INTERNAL, "unknown job '%s'", argv[0]);
    if (rc < 0) {
        char now[32];
        vm_time_format(time(NULL), now, sizeof(now));
        fprintf(stderr, "%s vmmgr job %s %s [%d]: %s: %s\n", now, argv[0], argv[1], (int)getpid(),
                vm_error_code_name(err.code), err.msg);
        return EXIT_SERVICE;
    }
    return 0;
}

/* `vmmgr cloudwatch|autoscaling COMMAND …`: a command of another service's namespace, through that
 * service's action table as the HTTP API calls it (principal "cli"). */
static int
service_main(const cli_globals *g, const char *service, const svc_desc *svc, int argc, char **argv)
{
    const cli_cmd *cmd = argc > 0 ? cli_service_cmd_find(service, argv[0]) : NULL;
    if (!cmd) {
        size_t n;
        const cli_cmd *all = cli_service_cmds(service, &n);
        fprintf(stderr, "vmmgr %s: %s%s%s\n\ncommands:\n", service,
                argc < 1 ? "a command is needed" : "unknown command '", argc < 1 ? "" : argv[0], argc < 1 ? "" : "'");
        for (size_t i = 0; i < n; i++)
            if (strcmp(all[i].service, service) == 0)
                fprintf(stderr, "  %-42s %s\n", all[i].name, all[i].help);
        return EXIT_USAGE;
    }
    if (wants_help(argc - 1, argv + 1)) {
        cli_cmd_usage(cmd);
        return 0;
    }
    vm_error err = { 0 };
    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    if (!p || cli_args_to_params(cmd, argc - 1, argv + 1, p, &err) < 0) {
        fprintf(stderr, "vmmgr %s %s: %s\n", service, cmd->name, err.msg);
        return EXIT_USAGE;
    }
    _cleanup_(vm_ctx_freep) vm_ctx *ctx = vm_ctx_new(g->state_dir, g->uri, &err);
    if (!ctx) {
        fprintf(stderr, "vmmgr: %s\n", err.msg);
        return EXIT_SERVICE;
    }
    ctx->progress = cli_cmd_progress(cmd);
    vm_node *resp = NULL;
    if (svc_call(svc, ctx, "cli", cmd->action, svc->version, p, &resp, &err) < 0) {
        report(cmd->action, &err);
        return EXIT_SERVICE;
    }
    int rc = 0;
    if (g->query) {
        if (cli_query_render(stdout, resp, g->query, g->output, &err) < 0) {
            fprintf(stderr, "vmmgr: %s\n", err.msg);
            rc = EXIT_USAGE;
        }
    } else if (!cmd->no_output) {
        cli_render(stdout, resp, g->output);
    }
    vm_node_free(resp);
    return rc;
}

int
main(int argc, char **argv)
{
    cli_globals g = {
        .state_dir = getenv("VMMGR_STATE_DIR") ? getenv("VMMGR_STATE_DIR") : "/var/lib/vmmgr",
        .uri = getenv("VMMGR_LIBVIRT_URI"),
        .output = CLI_OUTPUT_TABLE,
    };
    /* libvirt's error calls (virResetLastError, …) crash before libvirt is set up, and a command
     * (a job) may make one before its first connection */
    if (virInitialize() < 0) {
        fprintf(stderr, "vmmgr: cannot initialize libvirt\n");
        return EXIT_SERVICE;
    }
    vm_trace("start %s", argc > 1 ? argv[1] : "");
    argc = globals_take(argc - 1, argv + 1, &g);
    argv++;
    if (argc < 0)
        return EXIT_USAGE;
    if (argc > 0 && strcmp(argv[0], "--version") == 0) {
        printf("vmmgr %s\n", PACKAGE_VERSION);
        return 0;
    }
    /* generated documents (the build makes vmmgr.1 and the bash completion from the table) */
    if (argc > 0 && strcmp(argv[0], "_man") == 0) {
        cli_docs_man(stdout);
        return 0;
    }
    if (argc > 0 && strcmp(argv[0], "_bash-completion") == 0) {
        cli_docs_bash(stdout);
        return 0;
    }
    if (argc == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "help") == 0) {
        usage(argc == 0 ? stderr : stdout);
        return argc == 0 ? EXIT_USAGE : 0;
    }
    /* a namespace per service, as the aws CLI names them: `vmmgr ec2 …` is today's top-level EC2
     * commands; the other services' namespaces are known, their commands come with them */
    if (strcmp(argv[0], "ec2") == 0) {
        if (argc < 2 || (!cli_cmd_find(argv[1]) && strcmp(argv[1], "wait") != 0)) {
            fprintf(stderr, "vmmgr ec2: %s%s%s\n\n", argc < 2 ? "a command is needed" : "unknown EC2 command '",
                    argc < 2 ? "" : argv[1], argc < 2 ? "" : "'");
            usage(stderr);
            return EXIT_USAGE;
        }
        argc--, argv++;
    } else if (strcmp(argv[0], "cloudwatch") == 0) {
        return service_main(&g, "cloudwatch", &svc_cloudwatch, argc - 1, argv + 1);
    } else if (strcmp(argv[0], "autoscaling") == 0) {
        return service_main(&g, "autoscaling", &svc_autoscaling, argc - 1, argv + 1);
    } else if (strcmp(argv[0], "elbv2") == 0) {
        return service_main(&g, "elbv2", &svc_elbv2, argc - 1, argv + 1);
    } else if (strcmp(argv[0], "acm") == 0) {
        return service_main(&g, "acm", &svc_acm, argc - 1, argv + 1);
    }
    const char *name = argv[0];
    const cli_cmd *cmd = cli_cmd_find(name), *local = cli_local_find(name);
    bool completing = strcmp(name, "_ids") == 0, job = strcmp(name, "_job") == 0;
    if (!cmd && !local && !completing && !job) {
        fprintf(stderr, "vmmgr: unknown command '%s'\n\n", name);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!completing && !job && wants_help(argc - 1, argv + 1)) {
        if (strcmp(name, "wait") == 0)
            cli_wait_usage();
        else
            cli_cmd_usage(cmd ? cmd : local);
        return 0;
    }

    vm_error err = { 0 };
    if (strcmp(name, "serve") == 0 && vm_serve_prepare(&err) < 0) {
        fprintf(stderr, "vmmgr serve: %s\n", err.msg);
        return EXIT_SERVICE;
    }
    _cleanup_(vm_ctx_freep) vm_ctx *ctx = vm_ctx_new(g.state_dir, g.uri, &err);
    if (!ctx) {
        fprintf(stderr, "vmmgr: %s\n", err.msg);
        return EXIT_SERVICE;
    }
    vm_trace("context %s", name);
    ctx->keepalive = strcmp(name, "serve") == 0;
    if (completing) /* `_ids OPTION`: the bash completion asks the store, without reconcile */
        return argc == 2 && cli_docs_ids(ctx, argv[1], stdout) == 0 ? 0 : EXIT_USAGE;
    if (job) /* `_job KIND ID FDS`: the rest of a request's work (vmmgr/core/job.h) */
        return cmd_job(ctx, argc - 1, argv + 1);
    if (strcmp(name, "init") == 0)
        return cmd_init(ctx, argc - 1, argv + 1);
    if (strcmp(name, "create-access-key") == 0 || strcmp(name, "list-access-keys") == 0 ||
        strcmp(name, "delete-access-key") == 0 || strcmp(name, "audit") == 0)
        return cmd_keys(ctx, name, argc - 1, argv + 1, g.output);

    /* every start repairs drift left by crashes or by hands outside vmmgr */
    vm_error rec = { 0 };
    if (inst_reconcile(ctx, &rec) < 0)
        fprintf(stderr, "vmmgr: warning: reconcile: %s\n", rec.msg);
    vm_trace("reconciled");

    if (strcmp(name, "wait") == 0)
        return cli_wait(ctx, argc - 1, argv + 1);
    if (strcmp(name, "top") == 0)
        return cli_top(ctx, argc - 1, argv + 1);
    if (strcmp(name, "serve") == 0)
        return cmd_serve(ctx, argc - 1, argv + 1);

    _cleanup_(vm_params_freep) vm_params *p = vm_params_new();
    if (!p || cli_args_to_params(cmd, argc - 1, argv + 1, p, &err) < 0) {
        fprintf(stderr, "vmmgr %s: %s\n", name, err.msg);
        return EXIT_USAGE;
    }
    /* the reconcile above was this command's: describe-instances need not run another */
    ctx->reconciled_elsewhere = true;
    ctx->progress = cli_cmd_progress(cmd);
    vm_node *resp = NULL;
    if (vm_dispatch(ctx, "cli", cmd->action, p, &resp, &err) < 0) {
        report(cmd->action, &err);
        return EXIT_SERVICE;
    }
    vm_trace("dispatched %s", cmd->action);
    int rc = 0;
    if (g.query) {
        if (cli_query_render(stdout, resp, g.query, g.output, &err) < 0) {
            fprintf(stderr, "vmmgr: %s\n", err.msg);
            rc = EXIT_USAGE;
        }
    } else if (!cmd->no_output) {
        cli_render(stdout, resp, g.output);
    }
    vm_node_free(resp);
    return rc;
}
